"""After a successful run on a ticket, its page offers the next step: the task's reply, and resolving the ticket."""
from __future__ import annotations

import html as markup

from console.deflection.models import Ticket
from console.tasks.models import TaskRun
from tests.tasks.test_views import colleague  # noqa: F401 (a fixture, used by name)
from tests.tasks.test_views import confirm, form_post, preview_refund, run_id_from

REPLY = "We have refunded EUR 30.00 on your order 1004 to the card you paid with."


def _refund(client) -> int:
    return run_id_from(confirm(client, "/admin/tasks/refund_order/", preview_refund(client).get_data(as_text=True)))


def test_the_run_page_suggests_the_reply_and_resolves_the_ticket(client, login_as, demo_shop, console_db):
    login_as("agent")
    run_id = _refund(client)
    page = markup.unescape(client.get(f"/admin/runs/{run_id}").get_data(as_text=True))
    assert "Next step: answer the customer" in page and REPLY in page
    assert 'data-copy-target="suggested-reply"' in page and 'action="/admin/tickets/resolve"' in page
    assert "Resolve ticket T-1" in page

    response = form_post(client, "/admin/tickets/resolve", {"ref": "T-1", "note": f"Resolved with run #{run_id}."})
    assert response.status_code == 302
    ticket = console_db.query(Ticket).filter_by(ref="T-1").one()
    console_db.refresh(ticket)
    assert ticket.outcome == "deflected_by_task"  # resolved without the developers, thanks to the run
    after = markup.unescape(client.get(f"/admin/runs/{run_id}").get_data(as_text=True))
    assert REPLY in after and 'action="/admin/tickets/resolve"' not in after  # resolved: nothing left to resolve


def test_only_those_who_work_tickets_are_offered_to_resolve(client, login_as, colleague, demo_shop):
    login_as("agent")
    run_id = _refund(client)
    page = colleague("developer").get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert "tickets/resolve" not in page


def test_a_refused_run_has_no_next_step(client, login_as, demo_shop, console_db):
    run = TaskRun(task="refund_order", status="refused", ticket="T-3", reason="asked", actor="a@example.com",
                  params='{"order_id": 1004, "amount_cents": 3000}', error="order 1004 was never charged")
    console_db.add(run)
    console_db.commit()
    login_as("agent")
    page = client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    assert "Next step" not in page and "tickets/resolve" not in page
