"""A run that waited for approval is told once on its ticket, and its requester hears of the decision."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from console.tasks.approvals import expire_stale_approvals
from console.tasks.models import TaskRun
from console.tasks.runner import approve_run, reject_run, start_run
from tests.tasks.fake_tasks import TICKET, fake_tasks, request_for, shop_order, staff, within  # noqa: F401

pytestmark = pytest.mark.usefixtures("fake_tasks")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def requested(within, request_for, shop_order, staff):
    """ask() -> a high-risk refund the agent requested on ticket T-100, waiting for a lead."""
    def ask():
        order = shop_order(total_cents=50000)
        run = within(start_run, request_for("fake_refund", actor=staff("agent"), order_id=order.id,
                                            amount_cents=20000))
        assert run.status == "pending_approval"
        return run

    return ask


def _runs_section(html: str) -> str:
    return html.split("Task runs</h2>", 1)[1].split("</ul>", 1)[0]


def test_an_approved_run_is_listed_once_with_who_asked_and_who_approved(client, auth, within, requested, staff):
    run = requested()
    agent, lead = staff("agent"), staff("lead")
    within(approve_run, run.id, lead, "checked the order")
    auth.login(agent.email)
    html = page(client.get("/admin/tickets/view", query_string={"ref": TICKET}))
    runs = _runs_section(html)
    assert runs.count(f"Run #{run.id}") == 1 and "<strong>succeeded</strong>" in runs
    assert f"requested by {agent.email}" in runs and f"approved by {lead.email}" in runs and "ran," in runs
    assert "pending approval" not in html  # neither the list nor the timeline tells the run twice
    timeline = html.split("Timeline</h2>", 1)[1]
    assert timeline.count(f"Run #{run.id}") == 1


def test_the_ticket_json_tells_each_run_once(client, within, requested, staff, api_token):
    run = requested()
    lead = staff("lead")
    within(approve_run, run.id, lead, "checked the order")
    _user, headers = api_token("agent")
    ticket = client.get(f"/api/v1/tickets/{TICKET}", headers=headers).get_json()["ticket"]
    assert [(r["run_id"], r["status"], r["requested_by"], r["approved_by"], r["decision"]) for r in ticket["runs"]] == [
        (run.id, "succeeded", staff("agent").email, lead.email, "approved")]


def test_a_rejected_and_a_waiting_run_say_so(client, auth, within, requested, staff):
    rejected, waiting = requested(), requested()
    within(reject_run, rejected.id, staff("lead"), "the customer was refunded already")
    auth.login(staff("agent").email)
    runs = _runs_section(page(client.get("/admin/tickets/view", query_string={"ref": TICKET})))
    assert f"rejected by {staff('lead').email}" in runs
    assert runs.count("waiting for a lead's approval") == 1 and f"Run #{waiting.id}" in runs


def test_the_requester_sees_the_decisions_on_their_home_page(client, auth, within, requested, staff, console_db):
    approved, rejected, expired, undecided = requested(), requested(), requested(), requested()
    within(approve_run, approved.id, staff("lead"), "checked the order")
    within(reject_run, rejected.id, staff("lead"), "refunded already, carol.case@example.com asked twice")
    console_db.execute(update(TaskRun).where(TaskRun.id == expired.id)
                       .values(created_at=expired.created_at - timedelta(days=3)))
    console_db.commit()
    assert within(expire_stale_approvals) == 1  # what the lead's queue does whenever it is read
    auth.login(staff("agent").email)
    home = page(client.get("/admin/"))
    notices = home.split('id="home-decisions"', 1)[1].split("</section>", 1)[0]
    assert f"Run #{approved.id}" in notices and f"approved by {staff('lead').email}" in notices
    assert "<strong>succeeded</strong>" in notices
    assert f"Run #{rejected.id}" in notices and "“refunded already, " in notices
    assert "carol.case@example.com" not in notices  # a lead's reason is masked, as on the run page
    assert f"Run #{expired.id}" in notices and "<strong>expired</strong>" in notices
    assert f"Run #{undecided.id}" not in notices


def test_nobody_else_sees_the_notices(client, auth, within, requested, staff):
    run = requested()
    within(approve_run, run.id, staff("lead"), "checked the order")
    auth.login(staff("agent", "other").email)
    assert 'id="home-decisions"' not in page(client.get("/admin/"))
