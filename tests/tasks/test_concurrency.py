"""Runs racing with real commits: row locks and the idempotency constraint hold.

On PostgreSQL the rows are locked (FOR UPDATE); on SQLite each writer takes the file's write
lock when its transaction begins and the others wait their turn (console/db.py).
"""
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, insert, select

from admin_tasks.shop_schema import Customer, Order, Refund
from console.auth.models import StaffUser
from console.db import console_session, expect_writes, utcnow
from console.engines import make_engine
from console.tasks.models import TaskRun
from console.tasks.runner import RunRequest, TaskError, start_run
from tests.committed import make_committed_user
from tests.tasks.fake_tasks import SHOP

THREADS = 50
POOL = 10
ORDER_ID = 7001
TOTAL = 10000


@pytest.fixture
def shop_app(isolated_app):
    app = isolated_app(TASK_PACKAGES=[SHOP])
    # Fifty threads share ten connections per database: real contention, without exhausting the
    # connection limit of a server that other test runs use too.
    dbs = app.extensions["console_db"]
    old = (dbs.console_engine, dbs.target_engine)
    dbs.console_engine, dbs.target_engine = (
        make_engine(engine.url.render_as_string(hide_password=False), pool_size=POOL, max_overflow=0,
                    pool_timeout=120, write_lock=dbs.takes_write_lock) for engine in old)
    dbs.bind(dbs.console_engine, dbs.target_engine)
    for engine in old:
        engine.dispose()
    now = utcnow()
    with app.extensions["console_db"].target_engine.begin() as conn:
        conn.execute(insert(Customer).values(id=1, email="racer@example.org", name="Racer", status="active",
                                             email_confirmed=True, failed_login_count=0, created_at=now,
                                             updated_at=now))
        conn.execute(insert(Order).values(id=ORDER_ID, customer_id=1, status="delivered", total_cents=TOTAL,
                                          refunded_cents=0, created_at=now, updated_at=now, status_changed_at=now))
    return app


def _race(app, emails: list[str], make_request, call=start_run) -> list:
    """Start every request at the same moment, each in its own thread and app context."""
    barrier = threading.Barrier(len(emails))
    outcomes: list = [None] * len(emails)

    def worker(index: int, email: str):
        try:
            with app.app_context():
                actor = console_session().scalar(select(StaffUser).where(StaffUser.email == email))
                console_session().commit()  # give the connection back before waiting for the others
                request = make_request(index, actor)
                expect_writes()  # as `tasks run` does: on SQLite, wait for the write lock
                barrier.wait(120)
                try:
                    run = call(request)
                    outcomes[index] = ("ran", run.id, run.status, "")
                except TaskError as exc:
                    outcomes[index] = ("error", exc.run.id if exc.run else None, exc.code, exc.message)
        except Exception as exc:  # anything else would be a 500
            outcomes[index] = ("crash", None, exc.__class__.__name__, str(exc)[:300])

    threads = [threading.Thread(target=worker, args=(i, email)) for i, email in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a run hung"
    return outcomes


def test_concurrent_refunds_never_exceed_the_order_total(shop_app):
    agents = [make_committed_user(shop_app, "agent") for _ in range(5)]
    amount = 300

    outcomes = _race(shop_app, [agents[i % 5] for i in range(THREADS)], lambda i, actor: RunRequest(
        task="fake_refund", params={"order_id": ORDER_ID, "amount_cents": amount}, ticket=f"T-{i}",
        reason="racing refunds", actor=actor, source="api"))

    kinds = Counter(outcome[2] for outcome in outcomes)
    assert set(kinds) <= {"succeeded", "refused"}, Counter(outcomes)
    dbs = shop_app.extensions["console_db"]
    with dbs.target_engine.connect() as conn:
        refunded = conn.scalar(select(Order.refunded_cents).where(Order.id == ORDER_ID))
        refund_rows = conn.scalar(select(func.coalesce(func.sum(Refund.amount_cents), 0)))
    assert refunded <= TOTAL
    assert refunded == refund_rows == amount * kinds["succeeded"]
    # Row locks make every run see the latest total: all that fit succeed, the rest are refused for lack of money.
    assert kinds["succeeded"] == TOTAL // amount
    assert all("cents left to refund" in outcome[3] for outcome in outcomes if outcome[2] == "refused")
    with dbs.console_engine.connect() as conn:
        statuses = Counter(conn.scalars(select(TaskRun.status)))
    assert statuses == Counter({"succeeded": kinds["succeeded"], "refused": kinds["refused"]})


def test_fifty_identical_requests_with_one_key_make_one_run(shop_app):
    agent = make_committed_user(shop_app, "agent")

    outcomes = _race(shop_app, [agent] * THREADS, lambda i, actor: RunRequest(
        task="fake_refund", params={"order_id": ORDER_ID, "amount_cents": 500}, ticket="T-1", reason="once",
        actor=actor, idempotency_key="same-key", source="api"))

    assert {outcome[:3] for outcome in outcomes} == {("ran", outcomes[0][1], "succeeded")}, Counter(outcomes)
    dbs = shop_app.extensions["console_db"]
    with dbs.console_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(TaskRun)) == 1
    with dbs.target_engine.connect() as conn:
        assert conn.scalar(select(Order.refunded_cents).where(Order.id == ORDER_ID)) == 500


def test_racing_runs_of_one_person_never_overshoot_the_tasks_rate_limit(shop_app):
    shop_app.config["TASK_RATE_LIMITS"] = {"fake_refund": "5/hour"}
    agent = make_committed_user(shop_app, "agent")

    outcomes = _race(shop_app, [agent] * 20, lambda i, actor: RunRequest(
        task="fake_refund", params={"order_id": ORDER_ID, "amount_cents": 100}, ticket=f"T-{i}",
        reason="racing the limit", actor=actor, source="api"))

    assert Counter(outcome[2] for outcome in outcomes) == {"succeeded": 5, "rate_limited": 15}, Counter(outcomes)
    assert all("at most 5/hour" in outcome[3] for outcome in outcomes if outcome[2] == "rate_limited")
    dbs = shop_app.extensions["console_db"]
    with dbs.console_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(TaskRun)) == 5
    with dbs.target_engine.connect() as conn:
        assert conn.scalar(select(Order.refunded_cents).where(Order.id == ORDER_ID)) == 500


def test_racing_refunds_of_one_person_on_one_order_never_pass_the_cap_together(shop_app):
    # Ten 3000-cent refunds at once by one agent (cap 10000): three fit under the cap, every other one waits for
    # approval, however the runs interleave. The order has money enough for all ten.
    agent = make_committed_user(shop_app, "agent")
    _add_order(shop_app, 7002, total_cents=100000)

    outcomes = _race(shop_app, [agent] * 10, lambda i, actor: RunRequest(
        task="fake_refund", params={"order_id": 7002, "amount_cents": 3000}, ticket=f"T-{i}",
        reason="split refunds", actor=actor, source="api"))

    assert Counter(outcome[2] for outcome in outcomes) == {"succeeded": 3, "pending_approval": 7}, Counter(outcomes)
    dbs = shop_app.extensions["console_db"]
    with dbs.target_engine.connect() as conn:
        assert conn.scalar(select(Order.refunded_cents).where(Order.id == 7002)) == 9000
    with dbs.console_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(TaskRun)) == 10


def test_resets_racing_a_change_of_address_never_reach_the_new_address_unapproved(shop_app):
    # Each reset waits until the account can be found under its new address, then asks at once: whenever that
    # is, even while the change's run is still in flight, the reset sees that run and waits for approval.
    agents = [make_committed_user(shop_app, "agent") for _ in range(5)]
    target = shop_app.extensions["console_db"].target_engine

    def until_found(request):
        if request.task == "fake_change_email":
            return start_run(request)
        for _ in range(2000):
            with target.connect() as conn:  # a plain read, outside the runner's sessions and their write lock
                found = conn.scalar(select(Customer.id).where(Customer.email == "thief@example.net"))
            if found is not None:
                return start_run(request)
            time.sleep(0.002)
        raise AssertionError("the changed address never appeared")

    outcomes = _race(shop_app, agents + [agents[0]], lambda i, actor: RunRequest(
        task="fake_reset" if i < 5 else "fake_change_email", ticket=f"T-{i}", reason="takeover", actor=actor,
        params={"email": "thief@example.net"} if i < 5 else {"email": "racer@example.org",
                                                              "new_email": "thief@example.net"}, source="api"),
        call=until_found)

    assert [outcome[2] for outcome in outcomes] == ["pending_approval"] * 5 + ["succeeded"], outcomes
    dbs = shop_app.extensions["console_db"]
    with dbs.console_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(TaskRun)
                           .where(TaskRun.task == "fake_reset", TaskRun.status == "succeeded")) == 0


def _add_order(app, order_id: int, *, total_cents: int) -> None:
    now = utcnow()
    with app.extensions["console_db"].target_engine.begin() as conn:
        conn.execute(insert(Order).values(id=order_id, customer_id=1, status="delivered", total_cents=total_cents,
                                          refunded_cents=0, created_at=now, updated_at=now, status_changed_at=now))
