"""The README's tour: reading a runbook on a ticket is on the audit trail, once per ticket until it is reopened."""
from __future__ import annotations

from sqlalchemy import select

from console.audit.models import AuditEntry
from tests.runbooks.test_views import LOGIN_RUNBOOK, OWN_PAGE, work_ticket


def _reads(console_db) -> list[tuple]:
    return [(entry.actor, entry.ticket, entry.details.get("runbook") if isinstance(entry.details, dict) else
             entry.details) for entry in console_db.scalars(select(AuditEntry).where(
                 AuditEntry.action == "ticket.runbook_viewed").order_by(AuditEntry.seq))]


def test_a_runbook_read_on_a_ticket_writes_one_audit_entry(client, login_as, console_db):
    agent = login_as("agent")
    work_ticket(client, "T-100")
    assert client.get(LOGIN_RUNBOOK).status_code == 200  # a pasted link: not counted, not audited
    assert _reads(console_db) == []
    assert client.get(LOGIN_RUNBOOK, headers=OWN_PAGE).status_code == 200
    assert client.get(LOGIN_RUNBOOK, headers=OWN_PAGE).status_code == 200  # read again: the ticket already has it
    console_db.expire_all()
    [(actor, ticket, details)] = _reads(console_db)
    assert (actor, ticket) == (agent.email, "T-100") and "cannot-log-in" in str(details)


def test_a_runbook_read_without_a_ticket_is_not_audited(client, login_as, console_db):
    login_as("agent")
    assert client.get(LOGIN_RUNBOOK, headers=OWN_PAGE).status_code == 200
    assert _reads(console_db) == []
