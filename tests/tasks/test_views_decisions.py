"""Deciding on runs from their pages: a lead approves, rejects, undoes and reconciles; others may not."""
import re

from console.tasks.models import TaskRun
from tests.tasks.test_views import colleague  # noqa: F401 (a fixture, used by name)
from tests.tasks.test_views import REFUND, confirm, form_post, preview_refund, run_id_from, unlock_locked_customer

# ---- approval ---------------------------------------------------------------------------------

def request_big_refund(client) -> int:
    html = preview_refund(client, amount="200.00").get_data(as_text=True)
    assert "Needs a lead" in html and "Confirm and ask for approval" in html
    return run_id_from(confirm(client, REFUND, html))


def test_a_lead_approves_a_high_risk_run_from_the_queue(client, login_as, colleague, demo_shop, target_row):
    login_as("agent")
    run_id = request_big_refund(client)
    own = client.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert "You requested this run" in own and 'action="/admin/runs/%d/approve"' % run_id not in own
    assert target_row("orders", id=1004)["refunded_cents"] == 0

    lead = colleague("lead")
    assert f"/admin/runs/{run_id}" in lead.get("/admin/approvals/").get_data(as_text=True)
    assert f"/admin/runs/{run_id}" in lead.get("/admin/").get_data(as_text=True)  # the home section
    assert f'action="/admin/runs/{run_id}/approve"' in lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    response = form_post(lead, f"/admin/runs/{run_id}/approve", {"reason": "checked the return"})
    assert response.status_code == 303
    assert target_row("orders", id=1004)["refunded_cents"] == 20000
    page = lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert "succeeded" in page
    assert re.search(r'href="/admin/audit/entry/\d+"', page)  # leads read the trail: the entries are links
    assert 'id="ticket-page-link"' in page


def test_an_agent_cannot_approve(client, login_as, demo_shop, target_row):
    login_as("agent")
    run_id = request_big_refund(client)
    response = form_post(client, f"/admin/runs/{run_id}/approve", {"reason": "looks fine"})
    assert response.status_code == 403
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_a_lead_cannot_approve_their_own_run(client, login_as, demo_shop, target_row):
    login_as("lead")
    html = preview_refund(client, amount="200.00").get_data(as_text=True)
    run_id = run_id_from(confirm(client, REFUND, html))
    response = form_post(client, f"/admin/runs/{run_id}/approve", {"reason": "mine"})
    assert response.status_code == 403 and "your own run" in response.get_data(as_text=True)
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_a_lead_rejects_with_a_reason(client, login_as, colleague, demo_shop, target_row, console_db):
    login_as("agent")
    run_id = request_big_refund(client)
    lead = colleague("lead")
    assert form_post(lead, f"/admin/runs/{run_id}/reject", {"reason": "no return received"}).status_code == 303
    console_db.expire_all()
    assert console_db.get(TaskRun, run_id).status == "rejected"
    again = form_post(lead, f"/admin/runs/{run_id}/approve", {"reason": "changed my mind"})
    assert again.status_code == 409
    assert target_row("orders", id=1004)["refunded_cents"] == 0



# ---- undo and reconcile ----------------------------------------------------------------------

def test_a_lead_undoes_a_run_from_its_page(client, login_as, colleague, demo_shop, target_row, console_db):
    login_as("agent")
    run_id = unlock_locked_customer(client)
    assert target_row("customers", email="locked@example.com")["status"] == "active"
    assert 'id="undo-heading"' not in client.get(f"/admin/runs/{run_id}").get_data(as_text=True)

    lead = colleague("lead")
    assert 'id="undo-heading"' in lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    undo_id = run_id_from(form_post(lead, f"/admin/runs/{run_id}/undo", {"ticket": "T-5", "reason": "wrong account"}))
    assert target_row("customers", email="locked@example.com")["status"] == "locked"
    console_db.expire_all()
    assert console_db.get(TaskRun, undo_id).undo_of == run_id
    page = lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert f"/admin/runs/{undo_id}" in page and 'id="undo-unavailable"' in page


def test_an_agent_cannot_undo(client, login_as, demo_shop, target_row):
    login_as("agent")
    run_id = unlock_locked_customer(client)
    assert form_post(client, f"/admin/runs/{run_id}/undo", {"reason": "oops"}).status_code == 403
    assert target_row("customers", email="locked@example.com")["status"] == "active"



def test_a_lead_reconciles_an_interrupted_run(client, login_as, colleague, demo_shop, console_db):
    from datetime import timedelta

    from sqlalchemy import update

    from console.db import utcnow

    login_as("agent")
    run_id = unlock_locked_customer(client)
    # As if the console died after the target commit, before writing the outcome.
    console_db.execute(update(TaskRun).where(TaskRun.id == run_id)
                       .values(status="interrupted", started_at=utcnow() - timedelta(hours=1)))
    console_db.flush()
    assert 'id="reconcile-heading"' not in client.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    lead = colleague("lead")
    assert 'id="reconcile-heading"' in lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    response = form_post(lead, f"/admin/runs/{run_id}/reconcile", {"settle_as": "", "reason": "after the outage"})
    assert response.status_code == 303
    console_db.expire_all()
    assert console_db.get(TaskRun, run_id).status == "succeeded"
    again = form_post(lead, f"/admin/runs/{run_id}/reconcile", {"settle_as": ""})
    assert again.status_code == 409 and "not interrupted" in again.get_data(as_text=True)
