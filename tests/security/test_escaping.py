"""Hostile text is inert everywhere it is shown: pages, the audit diff and the CSV export."""
from __future__ import annotations

import csv
import io

from tests.factories import CustomerFactory

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = SCRIPT + IMG


def _inert(html: str) -> bool:
    return SCRIPT not in html and "<img src=x onerror" not in html


# The default TICKET_REF_PATTERN refuses markup; a deployment may allow any printable reference,
# and then the pages must still escape it.
ANY_PRINTABLE = r"[^\x00-\x1f\x7f]+"


def test_hostile_customer_ticket_and_reason_are_escaped_on_every_page(app, client, login_as, run_task, auth,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_REF_PATTERN", ANY_PRINTABLE)
    lead = login_as("lead")
    customer = CustomerFactory(locked=True, name="Mallory " + HOSTILE, email="mallory@example.com")
    run = run_task("unlock_account", as_user=lead, ticket="T-" + HOSTILE, reason="because " + HOSTILE + "\nforged",
                   email=customer.email)
    assert run.status == "succeeded"
    reveal = client.post(f"/admin/records/customers/{customer.id}/reveal",
                         data={"reason": "checking " + HOSTILE, "csrf_token": auth.csrf()})
    assert reveal.status_code in (200, 302, 303)
    pages = [
        "/admin/",
        f"/admin/records/customers/?q={customer.email}",
        f"/admin/records/customers/{customer.id}",
        "/admin/runs/",
        f"/admin/runs/{run.id}",
        "/admin/audit/",
        f"/admin/tickets/view?ref=T-{HOSTILE}",
        f"/admin/tasks/unlock_account/?email={HOSTILE}&ticket={HOSTILE}",
        f"/admin/runbooks/?q={HOSTILE}",
    ]
    shown = 0
    for url in pages:
        response = client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        assert response.status_code < 500, url
        assert _inert(html), f"unescaped hostile text on {url}"
        shown += "&lt;script&gt;" in html
    assert shown >= 5  # the text really is on those pages, escaped


def test_audit_entry_and_csv_export_neutralise_hostile_text(app, client, login_as, run_task, console_db, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_REF_PATTERN", ANY_PRINTABLE)
    lead = login_as("lead")
    customer = CustomerFactory(locked=True, name="=HYPERLINK(\"http://evil\")", email="formula@example.com")
    run_task("unlock_account", as_user=lead, ticket="=cmd|' /C calc'!A0", reason="+" + HOSTILE,
             email=customer.email)
    from sqlalchemy import select

    from console.audit.models import AuditEntry

    seq = console_db.scalars(select(AuditEntry.seq).where(AuditEntry.task == "unlock_account")
                             .order_by(AuditEntry.seq.desc())).first()
    entry = client.get(f"/admin/audit/entry/{seq}").get_data(as_text=True)
    assert _inert(entry) and "&lt;script&gt;" in entry
    export = client.get("/admin/audit/export.csv")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    cells = [cell for row in rows for cell in row]
    hostile_cells = [cell for cell in cells if "cmd|" in cell or HOSTILE in cell]
    assert hostile_cells, "the hostile values should be in the export"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in hostile_cells)


def test_the_top_bar_escapes_the_user_and_the_current_ticket(client, login_as):
    # The bar is written in Python (PageChrome.user_bar), not by the template's autoescape.
    login_as("agent", email="o'brien&co@example.com")
    with client.session_transaction() as session:
        session["ticket_ref"] = "T-" + HOSTILE
    html = client.get("/admin/records/customers/").get_data(as_text=True)
    assert _inert(html)
    assert 'title="Current ticket: T-&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img' in html
    assert 'href="/admin/tickets/view?ref=T-%3Cscript%3E' in html
    assert 'title="o&#39;brien&amp;co@example.com">o&#39;brien&amp;co@example.com</span>' in html
