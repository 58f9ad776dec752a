"""Executing a run: what its intent sends to the console database, and in which order."""
import pytest
from sqlalchemy import event, select

from console.audit.models import AuditEntry
from console.tasks.runner import start_run
from tests.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("fake_tasks")


def _statements(console_db) -> list[str]:
    sent: list[str] = []
    event.listen(console_db.connection(), "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def _intent(console_db, run_id: int) -> AuditEntry:
    return console_db.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(run_id),
                                                       AuditEntry.action == "task.intent")).one()


def test_an_intent_with_nothing_to_recount_sends_its_run_with_the_audit_heads_lock(within, request_for, console_db):
    CustomerFactory(email="held@example.org", locked=True)
    sent = _statements(console_db)

    run = within(start_run, request_for("fake_unlock", email="held@example.org"))

    assert run.status == "succeeded" and _intent(console_db, run.id).task == "fake_unlock"
    [insert] = [n for n, statement in enumerate(sent) if "INSERT INTO task_runs" in statement]
    if console_db.get_bind().dialect.name == "postgresql":
        assert "UPDATE audit_head" in sent[insert]  # one round trip for both
    else:
        assert "UPDATE audit_head" in sent[insert + 1]


def test_an_intent_with_a_rate_limit_writes_its_run_before_it_counts(within, request_for, console_db, app,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "TASK_RATE_LIMITS", {"fake_unlock": "100/hour"})
    CustomerFactory(email="counted@example.org", locked=True)
    sent = _statements(console_db)

    run = within(start_run, request_for("fake_unlock", email="counted@example.org"))

    assert run.status == "succeeded" and _intent(console_db, run.id).task == "fake_unlock"
    [insert] = [n for n, statement in enumerate(sent) if "INSERT INTO task_runs" in statement]
    person = next(n for n, statement in enumerate(sent) if "FROM staff_users" in statement and n > insert)
    head = next(n for n, statement in enumerate(sent) if "UPDATE audit_head" in statement and n > insert)
    # The recount sees the run's own row, and locks the person before the head, as every writer does.
    assert "UPDATE audit_head" not in sent[insert] and insert < person < head
