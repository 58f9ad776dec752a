"""A task's `batch_reads` (console.tasks.prefetch): a batch's runs find their rows read once for all of them,
and answer exactly as they do when each reads its own."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import event

from console.db import target_session
from console.tasks.batch import BatchRun, run_batch
from console.tasks.context import ROW_LOCKS, TaskContext
from console.tasks.execution import target_tables
from console.tasks.prefetch import BatchReads
from console.tasks.registry import task_registry

pytestmark = pytest.mark.usefixtures("fake_tasks")


def _reads_orders_and_customers(reads, items):
    orders = reads.get_many("orders", [params["order_id"] for params in items], lock=True)
    reads.get_many("customers", [order["customer_id"] for order in orders])


@pytest.fixture
def with_batch_reads(app, monkeypatch):
    """Give fake_refund a batch_reads hook (`hook`), for the test's duration."""

    def give(hook):
        with app.app_context():
            registry = task_registry()
            spec = registry.get("fake_refund")
        monkeypatch.setitem(registry._specs, "fake_refund", dataclasses.replace(spec, batch_reads=hook))

    return give


@pytest.fixture
def order_reads(dbs):
    """The SELECTs of the orders table the target database answers while the test runs."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM orders" in statement:
            seen.append(statement)

    event.listen(dbs.target_engine, "before_cursor_execute", count)
    yield seen
    event.remove(dbs.target_engine, "before_cursor_execute", count)


def _run(within, request_for, orders_and_amounts, tag):
    runs = [BatchRun(request_for("fake_refund", key=f"{tag}-{n}", order_id=order.id, amount_cents=amount))
            for n, (order, amount) in enumerate(orders_and_amounts)]
    assert within(run_batch, runs).stalled == ""
    return runs


def test_runs_answer_as_without_the_hook_with_one_read_of_their_orders(
        within, request_for, shop_order, fresh, with_batch_reads, order_reads):
    plain_a, plain_b = shop_order(total_cents=1000), shop_order()
    plain = _run(within, request_for, [(plain_a, 600), (plain_b, 300), (plain_a, 300), (plain_a, 600)], "plain")
    plain_selects = len(order_reads)
    with_batch_reads(_reads_orders_and_customers)
    read_a, read_b = shop_order(total_cents=1000), shop_order()
    order_reads.clear()

    read = _run(within, request_for, [(read_a, 600), (read_b, 300), (read_a, 300), (read_a, 600)], "read")
    read_selects = len(order_reads)

    # The third and fourth run read order A after the first changed it: from the database, not the batch's
    # read, so the fourth is refused on what is left, as without the hook.
    assert [run.status for run in read] == [run.status for run in plain] == ["succeeded", "succeeded",
                                                                             "succeeded", "refused"]
    assert [run.error for run in read] == [run.error.replace(str(plain_a.id), str(read_a.id)) for run in plain]
    assert [change["before"]["refunded_cents"] for run in read[:3] for change in run.done.changes[:1]] == \
        [change["before"]["refunded_cents"] for run in plain[:3] for change in run.done.changes[:1]] == [0, 0, 600]
    assert [run.done.effects[0]["customer_id"] for run in read[:2]] == [read_a.customer_id, read_b.customer_id]
    assert (fresh(read_a).refunded_cents, fresh(read_b).refunded_cents) == (900, 300)
    assert (plain_selects, read_selects) == (4, 3)  # one per run; the batch's, then runs 3 and 4


def test_a_failing_hook_leaves_each_run_to_read_its_own_rows(within, request_for, shop_order, fresh,
                                                             with_batch_reads):
    def broken(reads, items):
        reads.get_many("orders", [params["order_id"] for params in items], lock=True)
        reads.find_many("orders", "no_such_column", [1])

    with_batch_reads(broken)
    order = shop_order()

    runs = _run(within, request_for, [(order, 400)], "broken")

    assert [run.status for run in runs] == ["succeeded"]
    assert fresh(order).refunded_cents == 400


def test_a_lookup_the_batch_did_not_read_as_asked_goes_to_the_database(within, shop_order, order_reads):
    order = shop_order()

    def look():
        session = target_session()
        reads = BatchReads(session, target_tables(), locks=True)
        reads.get_many("orders", [order.id])  # without a lock
        reads.find_many("orders", "customer_id", [order.customer_id], lock=True)
        ctx = TaskContext(session, target_tables(), actor="a@example.com", ticket="T-1", reason="r", params={},
                          now=None, is_preview=True, prefetched=reads)
        order_reads.clear()
        kept = [ctx.find("orders", order.id)["id"], ctx.find_all("orders", customer_id=order.customer_id)[0]["id"],
                ctx.find("orders", customer_id=order.customer_id, lock=True)["id"]]
        answered_here = len(order_reads)
        asked = [reads.row("orders", order.id, True), reads.row("orders", True if order.id == 1 else float(order.id),
                                                                 False),
                 reads.rows("orders", "customer_id", float(order.customer_id), False)]
        ctx.find("orders", order.id, lock=True)
        ctx.update("orders", ctx.find("orders", order.id), status="cancelled")
        after_update = [reads.row("orders", order.id, False), reads.rows("orders", "customer_id", order.customer_id,
                                                                         False)]
        locking = session.get_bind().dialect.name in ROW_LOCKS
        session.rollback()
        return kept, answered_here, asked, after_update, len(order_reads), locking

    kept, answered_here, asked, after_update, reads_made, locking = within(look)

    assert kept == [order.id] * 3 and answered_here == 0
    # A locked read never takes a row read without a lock; a key of another type than the row's is not taken.
    assert asked == [None, None, None]
    # An update forgets its row and the table's lookups by column.
    assert after_update == [None, None]
    # The locked read of a row read without a lock queries where rows have locks (SQLite has none to take).
    assert reads_made == (1 if locking else 0)
