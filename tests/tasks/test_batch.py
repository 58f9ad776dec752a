"""Runs made as a batch (console.tasks.batch): each run audited as a single run is, and fail-closed as one."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from console.audit.verify import verify_trail
from console.db import target_session
from console.deflection.models import TicketEvent
from console.tasks.batch import BatchRun, run_batch
from console.tasks.checks import TaskError
from console.tasks.models import IdempotencyKey, TaskRun
from console.tasks.runner import reconcile_run
from tests.conftest import TEST_AUDIT_KEY

pytestmark = pytest.mark.usefixtures("fake_tasks")


def _batch(request_for, *params_list, task="fake_refund", as_role="agent"):
    return [BatchRun(request_for(task, as_role=as_role, key=f"batch-test-{n}", **params)) for n, params in
            enumerate(params_list)]


def test_each_run_is_audited_as_a_single_run_and_a_failure_undoes_only_itself(
        within, request_for, shop_order, fresh, audit_for, console_db, dbs, app):
    first, too_small, crashing, last = shop_order(), shop_order(total_cents=100), shop_order(), shop_order()
    runs = _batch(request_for, {"order_id": first.id, "amount_cents": 500},
                  {"order_id": too_small.id, "amount_cents": 500}, {"order_id": last.id, "amount_cents": 700})
    runs.insert(2, BatchRun(request_for("fake_crash", key="batch-test-crash", order_id=crashing.id)))

    result = within(run_batch, runs)

    assert result.stalled == ""
    assert [run.status for run in runs] == ["succeeded", "refused", "failed", "succeeded"]
    assert (fresh(first).refunded_cents, fresh(too_small).refunded_cents) == (500, 0)
    assert (fresh(crashing).refunded_cents, fresh(last).refunded_cents) == (0, 700)  # the crash's update undone
    rows = [console_db.get(TaskRun, run.run.id) for run in runs]
    assert [row.status for row in rows] == ["succeeded", "refused", "failed", "succeeded"]
    assert [row.idempotency_key for row in rows] == ["batch-test-0", "batch-test-1", "batch-test-crash",
                                                     "batch-test-2"]
    keys = dict(console_db.execute(select(IdempotencyKey.key, IdempotencyKey.run_id)).all())
    assert keys == {row.idempotency_key: row.id for row in rows}
    intent, outcome = audit_for(rows[0].id)
    assert (intent[0], intent[1], outcome[0], outcome[1]) == ("task.intent", "interrupted", "task.outcome",
                                                              "succeeded")
    assert intent[3]["expected"]["changes"][0]["after"]["refunded_cents"] == 500
    assert outcome[3]["changes"][0]["after"]["refunded_cents"] == 500
    [refused] = audit_for(rows[1].id)
    assert refused[:2] == ("task.outcome", "refused") and refused[3]["stage"] == "preview"
    assert "only 100 cents left" in rows[1].error
    assert "a bug in the task" in rows[2].error
    events = console_db.scalars(select(TicketEvent.run_id).where(TicketEvent.kind == "task_run")).all()
    assert sorted(events) == sorted(row.id for row in rows)
    assert verify_trail(dbs.console_engine, TEST_AUDIT_KEY).ok


def test_no_change_is_committed_when_the_intents_cannot_be(within, request_for, shop_order, fresh, counts):
    order = shop_order()
    before = counts()

    def console_fails(session, runs):
        raise OperationalError("COMMIT", {}, Exception("the console database went away"))

    with pytest.raises(TaskError) as raised:
        within(run_batch, _batch(request_for, {"order_id": order.id, "amount_cents": 500}), on_intent=console_fails)

    assert raised.value.status == 503
    assert fresh(order).refunded_cents == 0
    assert counts() == before


def test_a_target_commit_that_fails_leaves_the_runs_to_reconcile(within, request_for, shop_order, fresh, staff,
                                                                 app, monkeypatch):
    monkeypatch.setitem(app.config, "RECONCILE_AFTER_SECONDS", 0)
    orders = [shop_order(), shop_order()]
    runs = _batch(request_for, *({"order_id": order.id, "amount_cents": 300} for order in orders))

    def failing_commit():
        def refuse(session):
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

        event.listen(target_session(), "before_commit", refuse)
        try:
            return run_batch(runs)
        finally:
            event.remove(target_session(), "before_commit", refuse)

    result = within(failing_commit)

    assert "interrupted until reconciled" in result.stalled
    assert [run.status for run in runs] == ["interrupted", "interrupted"]
    assert [fresh(order).refunded_cents for order in orders] == [0, 0]
    settled = [within(reconcile_run, run.run.id, staff("lead")) for run in runs]
    assert [run.status for run in settled] == ["failed", "failed"]
    assert all("interrupted before the change was committed" in run.error for run in settled)


def test_runs_that_together_pass_a_cap_are_left_to_the_runner(within, request_for, shop_order, fresh, counts):
    order = shop_order(total_cents=20000)
    before = counts()
    runs = _batch(request_for, {"order_id": order.id, "amount_cents": 6000}, {"order_id": order.id,
                                                                              "amount_cents": 6000})

    within(run_batch, runs)

    # Each alone is under the agent's cap of 10000 cents; written together, the exact recount sees both.
    assert [run.status for run in runs] == ["single", "single"]
    assert fresh(order).refunded_cents == 0
    assert counts() == before


def test_a_run_needing_approval_is_left_to_the_runner(within, request_for, shop_order, fresh):
    big, small = shop_order(total_cents=50000), shop_order()
    runs = _batch(request_for, {"order_id": big.id, "amount_cents": 20000}, {"order_id": small.id,
                                                                             "amount_cents": 100})

    within(run_batch, runs)

    assert [run.status for run in runs] == ["single", "succeeded"]
    assert (fresh(big).refunded_cents, fresh(small).refunded_cents) == (0, 100)
