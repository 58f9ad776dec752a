"""Four-eyes approval: who may decide, expiry, and execution bound to the approved preview."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from admin_tasks.shop_schema import Customer, Order, Refund
from console.deflection.models import TicketEvent
from console.tasks.models import TaskRun
from console.tasks.runner import approve_run, pending_approvals, reject_run, start_run

pytestmark = pytest.mark.usefixtures("fake_tasks")


@pytest.fixture
def notes(webhook_outbox):
    """notes(kind) -> the texts of the webhook messages of that kind queued so far, oldest first."""
    return lambda kind: [text for queued, text in webhook_outbox() if queued == kind]


@pytest.fixture
def pending(within, request_for, shop_order, staff):
    """A high-risk refund of 20000 cents on a 50000-cent order, requested by the agent."""
    order = shop_order(total_cents=50000)
    run = within(start_run, request_for("fake_refund", actor=staff("agent"), order_id=order.id,
                                        amount_cents=20000))
    assert run.status == "pending_approval"
    return run, order


def test_a_lead_approves_and_the_run_executes(within, pending, staff, fresh, target_db, audit_for, console_db,
                                              notes):
    run, order = pending
    lead = staff("lead")

    done = within(approve_run, run.id, lead, "checked the order")

    assert done.id == run.id and done.status == "succeeded"
    assert (done.approved_by, done.decision_reason) == (lead.email, "checked the order")
    assert done.approved_at is not None and done.actor == staff("agent").email
    assert fresh(order).refunded_cents == 20000
    assert target_db.scalars(select(Refund.amount_cents).where(Refund.order_id == order.id)).all() == [20000]
    agent = staff("agent").email
    entries = audit_for(run.id)
    # The run is the agent's from request to outcome; the approval alone is the lead's act.
    assert [(action, actor) for action, _o, actor, _d in entries] == [
        ("task.request_approval", agent), ("run.approve", lead.email), ("task.intent", agent),
        ("task.outcome", agent)]
    # Once approved, every entry names both people the same way.
    assert [(d.get("requested_by"), d.get("approved_by")) for *_rest, d in entries[1:]] == [(agent, lead.email)] * 3
    statuses = console_db.scalars(select(TicketEvent.run_status).where(TicketEvent.run_id == run.id)
                                  .order_by(TicketEvent.id)).all()
    assert statuses == ["pending_approval", "succeeded"]
    assert notes("approval.decided") == [f"Run {run.id} (Fake refund) by {agent} was approved by {lead.email} and "
                                         "succeeded."]


def test_awaiting_approval_is_notified(within, request_for, shop_order, notes, target_db):
    order = shop_order(total_cents=50000)
    run = within(start_run, request_for("fake_refund", order_id=order.id, amount_cents=20000))

    [text] = notes("approval.requested")
    assert f"Run {run.id} (Fake refund)" in text and "awaits approval" in text and f"order {order.id}" in text
    # The refund email goes to the customer: chat gets the change, not the address.
    assert target_db.get(Customer, order.customer_id).email not in text


def test_the_requester_gets_a_403_whatever_the_role(attempt, within, request_for, shop_order, staff):
    lead = staff("lead")
    run = within(start_run, request_for("fake_refund", actor=lead, order_id=shop_order(total_cents=50000).id,
                                        amount_cents=20000))

    for decide in (approve_run, reject_run):
        error = attempt(decide, run.id, lead, "my own")
        assert (error.status, error.code) == (403, "forbidden") and "your own run" in error.message


def test_an_agent_may_not_approve(attempt, pending, staff):
    run, _order = pending

    error = attempt(approve_run, run.id, staff("agent", "second"), "looks fine")

    assert error.status == 403 and "may not approve runs" in error.message


def test_an_unknown_run_is_a_404_and_a_reason_is_required(attempt, pending, staff):
    run, _order = pending

    assert attempt(approve_run, 987654, staff("lead"), "x").status == 404
    assert attempt(approve_run, "abc", staff("lead"), "x").status == 404
    error = attempt(approve_run, run.id, staff("lead"), "  ")
    assert (error.status, error.fields) == (400, {"reason": "a reason is required"})


def test_only_a_pending_run_can_be_decided(within, attempt, pending, staff):
    run, _order = pending
    within(approve_run, run.id, staff("lead"), "ok")

    again = attempt(approve_run, run.id, staff("lead", "other"), "ok")
    reject = attempt(reject_run, run.id, staff("lead", "other"), "no")

    assert (again.status, reject.status) == (409, 409)
    assert again.message == f"run {run.id} is succeeded, not pending approval"


def test_a_rejected_run_never_runs(within, attempt, pending, staff, fresh, audit_for, notes):
    run, order = pending

    rejected = within(reject_run, run.id, staff("lead"), "amount looks wrong")

    assert rejected.status == "rejected" and rejected.approved_by == staff("lead").email
    assert rejected.decision_reason == "amount looks wrong" and rejected.changes_data == []
    assert rejected.error == f"rejected by {staff('lead').email}: amount looks wrong"
    assert fresh(order).refunded_cents == 0
    assert audit_for(run.id)[-1][:3] == ("run.reject", "rejected", staff("lead").email)
    assert attempt(approve_run, run.id, staff("lead", "b"), "changed my mind").status == 409
    assert notes("approval.rejected") == [f"Run {run.id} (Fake refund) by {staff('agent').email} was rejected by "
                                          f"{staff('lead').email}; the run page says why."]


def test_a_rejection_notice_never_carries_its_reason(within, pending, staff, notes):
    run, _order = pending

    within(reject_run, run.id, staff("lead"), "anna.muller@example.net asked us to stop")

    (notice,) = notes("approval.rejected")
    assert "anna" not in notice and "asked us to stop" not in notice and "the run page says why" in notice


def test_an_approval_expires(within, attempt, pending, staff, console_db, app, monkeypatch, fresh, audit_for,
                             notes):
    run, order = pending
    console_db.execute(update(TaskRun).where(TaskRun.id == run.id)
                       .values(created_at=run.created_at - timedelta(hours=25)))

    error = attempt(approve_run, run.id, staff("lead"), "ok")

    assert (error.status, error.code) == (409, "conflict") and "approval expired" in error.message
    expired = fresh(run)
    assert (expired.status, expired.error) == ("rejected", "approval expired")
    assert fresh(order).refunded_cents == 0
    assert audit_for(run.id)[-1][:3] == ("run.expire", "rejected", "system")
    assert notes("approval.expired") == [f"Run {run.id} (Fake refund) by {staff('agent').email} on ticket T-100 "
                                         "expired without approval."]


def test_the_queue_expires_runs_past_the_configured_time_limit(within, pending, app, monkeypatch, console_db,
                                                               fresh):
    run, _order = pending
    monkeypatch.setitem(app.config, "APPROVAL_TTL_HOURS", 1)
    assert run.id in [r.id for r in within(pending_approvals)]
    console_db.execute(update(TaskRun).where(TaskRun.id == run.id)
                       .values(created_at=run.created_at - timedelta(minutes=61)))

    assert run.id not in [r.id for r in within(pending_approvals)]
    assert (fresh(run).status, fresh(run).error) == ("rejected", "approval expired")


def test_the_queue_lists_pending_runs_oldest_first(within, request_for, shop_order):
    first = within(start_run, request_for("fake_refund", order_id=shop_order(total_cents=50000).id,
                                          amount_cents=20000))
    second = within(start_run, request_for("fake_disable", email=_customer_email(shop_order())))

    queue = [run.id for run in within(pending_approvals)]

    assert queue.index(first.id) < queue.index(second.id)


def _customer_email(order):
    from admin_tasks.shop_schema import Customer
    from tests.factories import SESSIONS

    return SESSIONS["target"].get(Customer, order.customer_id).email


def test_a_change_since_approval_refuses_the_run_and_writes_nothing(within, attempt, pending, staff, target_db,
                                                                    fresh, counts, notes, audit_for):
    run, order = pending
    target_db.execute(update(Order).where(Order.id == order.id).values(refunded_cents=100))
    before = counts()

    error = attempt(approve_run, run.id, staff("lead"), "ok")

    # Not a tool failure: the order moved on, so the run is refused and tool health counts no failure.
    assert (error.status, error.code) == (422, "refused")
    assert error.run.status == "refused"
    assert error.run.error == f"order {order.id} changed since it was approved; nothing was changed"
    assert audit_for(run.id)[-1][:2] == ("task.outcome", "refused")
    assert fresh(order).refunded_cents == 100  # only the outside change
    assert counts()["Refund"] == before["Refund"] and counts()["OutboxEmail"] == before["OutboxEmail"]
    assert notes("approval.decided") == [f"Run {run.id} (Fake refund) by {run.actor} was approved by "
                                         f"{staff('lead').email} and refused; the run page says why."]


def test_a_refusal_at_approval_time_refuses_the_run(attempt, pending, staff, target_db, fresh):
    run, order = pending
    target_db.execute(update(Order).where(Order.id == order.id).values(refunded_cents=40000))

    error = attempt(approve_run, run.id, staff("lead"), "ok")

    assert error.run.status == "refused"
    assert error.run.error == f"changed since approval: order {order.id} has only 10000 cents left to refund"
    assert fresh(order).refunded_cents == 40000


def test_an_unrelated_change_to_the_clock_is_not_drift(within, pending, staff, fresh):
    # The approved preview stamped updated_at and created_at with the request time; execution uses
    # another time, which must not count as a change.
    run, order = pending
    requested = order.updated_at

    assert within(approve_run, run.id, staff("lead"), "ok").status == "succeeded"
    assert fresh(order).updated_at > requested


def test_two_approvers_cannot_both_execute(within, attempt, pending, staff, monkeypatch):
    from console.tasks import approvals

    run, _order = pending
    real_claim = approvals._claim

    def someone_else_first(run_obj, status, decider, reason, now):
        # Another lead decides between this approver's checks and its claim.
        from console.db import console_session

        console_session().execute(update(TaskRun).where(TaskRun.id == run_obj.id).values(status="rejected"))
        console_session().commit()
        return real_claim(run_obj, status, decider, reason, now)

    monkeypatch.setattr(approvals, "_claim", someone_else_first)
    error = attempt(approve_run, run.id, staff("lead"), "ok")

    assert (error.status, error.message) == (409, f"run {run.id} is rejected, not pending approval")
