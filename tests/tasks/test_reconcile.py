"""Interrupted runs (a crash between the target commit and the outcome) and how they are settled."""
import pytest
from sqlalchemy import select, update

from admin_tasks.shop_schema import Order, OutboxEmail
from console.tasks.models import TaskRun
from console.tasks.runner import find_interrupted_runs, reconcile_run, start_run, undo_run
from tests.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("fake_tasks")


class Crash(BaseException):
    """The process dies: nothing in the runner may catch it."""


def crash(*args, **kwargs):
    raise Crash()


@pytest.fixture
def settle_now(app, monkeypatch):
    monkeypatch.setitem(app.config, "RECONCILE_AFTER_SECONDS", 0)


def crash_with_open_change(*args, **kwargs):
    """The process dies holding the uncommitted change: its connection's transaction is lost with it."""
    from console.db import target_session

    target_session().rollback()
    raise Crash()


def _interrupted(within, request, monkeypatch, where: str, how=crash) -> TaskRun:
    with monkeypatch.context() as patch:
        patch.setattr(f"console.tasks.execution.{where}", how)
        with pytest.raises(Crash):
            within(start_run, request)
    [run] = within(find_interrupted_runs, 0)
    return run


def _outbox(target_db, order):
    target_db.expire_all()
    return target_db.scalars(select(OutboxEmail.template).where(OutboxEmail.order_id == order.id)).all()


def test_a_crash_after_the_commit_is_settled_as_succeeded(within, request_for, shop_order, staff, fresh,
                                                          target_db, audit_for, monkeypatch, settle_now):
    order = shop_order()
    run = _interrupted(within, request_for("fake_refund", order_id=order.id, amount_cents=700), monkeypatch,
                       "run_effects")
    assert run.status == "interrupted" and fresh(order).refunded_cents == 700
    assert _outbox(target_db, order) == []  # the crash lost the email

    settled = within(reconcile_run, run.id, staff("lead"))

    assert settled.status == "succeeded"
    assert settled.result.startswith("reconciled: the change was committed (found by comparing the rows)")
    assert "queued 1 email that the interruption lost" in settled.result
    assert _outbox(target_db, order) == ["refund_issued"]
    assert [a for a, *_ in audit_for(run.id)] == ["task.intent", "task.reconcile"]
    assert audit_for(run.id)[-1][3]["verdict"] == "applied"
    assert within(find_interrupted_runs, 0) == []


def test_a_crash_before_the_commit_is_settled_as_failed(within, request_for, shop_order, staff, fresh,
                                                        monkeypatch, settle_now):
    order = shop_order()
    run = _interrupted(within, request_for("fake_refund", order_id=order.id, amount_cents=700), monkeypatch,
                       "_commit_prepared", crash_with_open_change)
    assert fresh(order).refunded_cents == 0

    settled = within(reconcile_run, run.id, staff("lead"))

    assert settled.status == "failed"
    assert settled.error == "interrupted before the change was committed (found by comparing the rows)"
    assert settled.changes_data == []


def test_a_run_that_may_still_be_running_is_left_alone(within, attempt, request_for, shop_order, staff,
                                                       monkeypatch):
    run = _interrupted(within, request_for("fake_refund", order_id=shop_order().id, amount_cents=1), monkeypatch,
                       "run_effects")

    error = attempt(reconcile_run, run.id, staff("lead"))

    assert error.status == 409 and "may still be running" in error.message
    assert within(find_interrupted_runs) == []  # not yet older than RECONCILE_AFTER_SECONDS (60)


def test_rows_that_tell_nothing_need_a_person(within, attempt, request_for, shop_order, staff, target_db,
                                              monkeypatch, settle_now):
    order = shop_order(status="paid")
    run = _interrupted(within, request_for("fake_set_status", order_id=order.id, status="processing"),
                       monkeypatch, "run_effects")
    target_db.execute(update(Order).where(Order.id == order.id).values(status="cancelled"))

    error = attempt(reconcile_run, run.id, staff("lead"))
    assert attempt(reconcile_run, run.id, staff("lead"), settle_as="maybe").fields == {
        "settle_as": "succeeded or failed"}
    settled = within(reconcile_run, run.id, staff("lead"), settle_as="succeeded", reason="checked the warehouse")

    assert error.status == 409 and f"cannot tell whether run {run.id} was applied" in error.message
    assert "neither the run's" in error.message
    assert settled.status == "succeeded" and "settled by hand" in settled.result


def test_only_interrupted_runs_are_reconciled_and_only_by_leads(within, attempt, request_for, shop_order, staff,
                                                               settle_now):
    run = within(start_run, request_for("fake_refund", order_id=shop_order().id, amount_cents=1))

    assert attempt(reconcile_run, run.id, staff("lead")).status == 409
    assert attempt(reconcile_run, run.id, staff("agent")).status == 403


def test_a_failed_interrupted_undo_frees_the_original(within, request_for, staff, fresh, monkeypatch, settle_now):
    customer = CustomerFactory(locked=True)
    original = within(start_run, request_for("fake_unlock", email=customer.email))
    with monkeypatch.context() as patch:
        patch.setattr("console.tasks.execution.apply", crash)
        with pytest.raises(Crash):
            within(undo_run, original.id, staff("lead"), None, "mistake")
    [undo] = within(find_interrupted_runs, 0)
    assert fresh(original).undone_by == undo.id

    assert within(reconcile_run, undo.id, staff("lead")).status == "failed"
    assert fresh(original).undone_by is None
