"""Bulks on a real Redis with real `support-console worker` processes, started and killed here."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from admin_tasks.shop_schema import Order, Refund
from console.bulk.models import Bulk, BulkItem
from console.bulk.service import request_bulk
from console.bulk.working import follow_reconciled_items, item_key
from console.db import console_session, target_session
from console.engines import is_postgres
from console.tasks.models import TaskRun
from console.tasks.runner import reconcile_run
from tests.bulk.processes import FAST, Console

CHUNK = FAST["BULK_CHUNK_ITEMS"]  # what the tests' workers claim at once
TOTAL = 4 * CHUNK


@pytest.fixture
def console(test_databases, tmp_path):
    made = Console(test_databases, tmp_path)
    yield made
    made.stop_all()


def _refunds(console: Console, count: int, amount: int = 100) -> int:
    """A bulk of `count` refunds by a lead (no cap: no approval), queued on Redis; its id."""
    lead = console.person("lead")
    orders = console.paid_orders(count)
    with console.app.app_context():
        bulk = request_bulk("refund_order", [{"order_id": o, "amount_cents": amount} for o in orders], "T-BULK-W",
                            "charged twice in the incident", lead)
        return bulk.id


def _applied_once_each(console: Console, bulk_id: int) -> dict:
    """Check that no item was applied twice; the items' statuses, counted."""
    with console.app.app_context():
        session, target = console_session(), target_session()
        items = session.scalars(select(BulkItem).where(BulkItem.bulk_id == bulk_id).order_by(BulkItem.idx)).all()
        for item in items:
            order_id = item.params_data["order_id"]
            refunds = target.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == order_id))
            refunded = target.scalar(select(Order.refunded_cents).where(Order.id == order_id))
            runs = session.scalar(select(func.count()).select_from(TaskRun).where(
                TaskRun.idempotency_key == item_key(bulk_id, item.idx)))
            assert refunds <= 1 and refunded == 100 * refunds, (item.idx, refunds, refunded)
            assert runs <= 1, (item.idx, runs)
            if item.status != "interrupted":  # until reconciled, an interrupted item may have applied or not
                assert (item.status == "succeeded") == (refunds == 1), (item.idx, item.status, refunds)
        counts: dict = {}
        for item in items:
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts


def test_two_workers_share_a_bulk_and_apply_each_item_once(console):
    bulk_id = _refunds(console, 60)
    console.start_worker()
    console.start_worker()
    status, done = console.wait_for(bulk_id, timeout=120)
    assert (status, done) == ("finished", 60)
    assert _applied_once_each(console, bulk_id) == {"succeeded": 60}


def test_a_bulk_queued_as_one_job_fans_out_to_every_idle_worker(console):
    """One job is queued; each job that claims a chunk queues another while a worker is idle: both take a job of
    the bulk, and on PostgreSQL both work its items (rows are claimed with SKIP LOCKED)."""
    from redis import Redis
    from rq import Worker

    from tests.bulk.processes import REDIS_URL

    workers = [console.start_worker(), console.start_worker()]
    deadline = time.monotonic() + 60
    while sum(w.get_state() == "idle" for w in Worker.all(connection=Redis.from_url(REDIS_URL))) < 2:
        assert time.monotonic() < deadline, "the two workers did not start"
        time.sleep(0.1)
    # Enough chunks that the first worker cannot finish them all before the second's job starts.
    bulk_id = _refunds(console, 40 * CHUNK)
    assert console.wait_for(bulk_id, timeout=180) == ("finished", 40 * CHUNK)
    assert _applied_once_each(console, bulk_id) == {"succeeded": 40 * CHUNK}
    # RQ logs each job it takes: "<queue name>: bulk <id> (<job id>)".
    assert all(f"{console.queue_name}: bulk {bulk_id} (" in (console.folder / f"worker{n}.log").read_text()
               for n in range(len(workers)))
    with console.app.app_context():
        owners = console_session().scalars(select(BulkItem.owner).where(BulkItem.bulk_id == bulk_id)).all()
        postgres = is_postgres(console_session().get_bind())
    if postgres:  # SQLite's one write lock: the second worker's claim may wait for the first to finish
        assert {owner.split(":")[1] for owner in owners} == {str(worker.pid) for worker in workers}


def test_a_worker_killed_mid_bulk_is_taken_over_and_no_item_is_applied_twice(console):
    # Several chunks (CONSOLE_BULK_CHUNK_ITEMS): the kill comes while a later one is in flight.
    bulk_id = _refunds(console, TOTAL)
    first = console.start_worker()
    console.wait_for(bulk_id, done=CHUNK, timeout=120)
    console.kill(first)  # SIGKILL: no chance to tidy up
    status, settled = console.progress(bulk_id)
    assert status == "running" and settled < TOTAL
    console.start_worker()
    status, done = console.wait_for(bulk_id, timeout=180)
    assert (status, done) == ("finished", TOTAL)
    counts = _applied_once_each(console, bulk_id)
    # An item caught between its intent and its outcome is `interrupted`: reconcile settles it from the rows.
    assert set(counts) <= {"succeeded", "interrupted"}, counts
    with console.app.app_context():
        lead = console.person("lead")
        interrupted = console_session().scalars(select(BulkItem.run_id).where(
            BulkItem.bulk_id == bulk_id, BulkItem.status == "interrupted")).all()
        for run_id in interrupted:
            reconcile_run(run_id, lead)
        follow_reconciled_items()
    # Reconcile settles each from the rows: applied, it succeeded; killed before its change committed, it failed
    # (and _applied_once_each checks that a failed item changed nothing). Nothing else may end otherwise.
    final = _applied_once_each(console, bulk_id)
    assert set(final) <= {"succeeded", "failed"} and final.get("failed", 0) <= len(interrupted), final
    assert final["succeeded"] + final.get("failed", 0) == TOTAL


def test_a_bulk_queued_while_no_worker_runs_starts_when_one_does(console):
    bulk_id = _refunds(console, 5)
    time.sleep(0.5)
    assert console.progress(bulk_id) == ("queued", 0)
    console.start_worker()
    assert console.wait_for(bulk_id, timeout=60) == ("finished", 5)


def test_a_lost_job_is_queued_again_by_the_sweep(console):
    """Redis lost the job (flushed): the workers' sweep finds the bulk without a worker and queues it again."""
    from redis import Redis

    from tests.bulk.processes import REDIS_URL

    bulk_id = _refunds(console, 5)
    Redis.from_url(REDIS_URL).flushdb()
    console.start_worker()
    assert console.wait_for(bulk_id, timeout=60) == ("finished", 5)
    with console.app.app_context():
        assert console_session().get(Bulk, bulk_id).status == "finished"


def test_a_paused_bulk_stops_on_its_worker_and_resume_queues_it_again(console):
    """A worker that takes the job of a paused bulk runs nothing of it; resume puts it on the queue again.

    Pausing between chunks of a running bulk is shown in-process by tests/bulk/test_control.py: a
    worker here runs 150 refunds in about a second, faster than a test could pause it halfway.
    """
    from console.bulk.service import pause_bulk, resume_bulk

    bulk_id = _refunds(console, 150)
    lead = console.person("lead")
    with console.app.app_context():
        pause_bulk(bulk_id, lead, "checking the list")
    worker = console.start_worker()
    time.sleep(3.0)  # the worker takes the queued job, finds the bulk paused, and leaves it
    assert console.progress(bulk_id) == ("paused", 0)
    with console.app.app_context():
        held = console_session().scalar(select(func.count()).select_from(BulkItem).where(
            BulkItem.bulk_id == bulk_id, BulkItem.status == "running"))
        assert held == 0
        resume_bulk(bulk_id, lead, "list checked")  # a job on the queue again: the same worker takes it
    assert console.wait_for(bulk_id, timeout=120) == ("finished", 150)
    assert worker.poll() is None
    assert _applied_once_each(console, bulk_id) == {"succeeded": 150}
