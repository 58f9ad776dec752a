"""Idempotency-Key: a repeated request replays the first run; another body with the same key is a 409."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from console.db import utcnow
from console.tasks.checks import check_request
from console.tasks.idempotency import request_hash
from console.tasks.models import IdempotencyKey, TaskRun
from console.tasks.runner import start_run

pytestmark = pytest.mark.usefixtures("fake_tasks")


def _runs(console_db) -> int:
    return console_db.scalar(select(func.count()).select_from(TaskRun))


def test_a_repeated_request_replays_the_first_run(within, request_for, shop_order, staff, console_db, fresh):
    order, agent = shop_order(), staff("agent")
    before = _runs(console_db)

    first = within(start_run, request_for("fake_refund", actor=agent, key="k-1", order_id=order.id,
                                          amount_cents=100))
    again = within(start_run, request_for("fake_refund", actor=agent, key="k-1", order_id=str(order.id),
                                          amount_cents="100"))  # the same request, typed as a form would

    assert again.id == first.id and again.status == "succeeded" and again.idempotency_key == "k-1"
    assert _runs(console_db) == before + 1
    assert fresh(order).refunded_cents == 100


def test_the_same_key_with_another_body_is_a_409(within, attempt, request_for, shop_order, staff, counts):
    order, agent = shop_order(), staff("agent")
    within(start_run, request_for("fake_refund", actor=agent, key="k-2", order_id=order.id, amount_cents=100))
    before = counts()

    error = attempt(start_run, request_for("fake_refund", actor=agent, key="k-2", order_id=order.id,
                                           amount_cents=200))
    other_reason = attempt(start_run, request_for("fake_refund", actor=agent, key="k-2", reason="another",
                                                  order_id=order.id, amount_cents=100))

    assert (error.status, error.code, error.fields) == (409, "conflict", {
        "idempotency_key": "already used with a different body"})
    assert other_reason.status == 409
    assert counts() == before


def test_keys_belong_to_one_actor(within, request_for, shop_order, staff):
    order = shop_order()

    mine = within(start_run, request_for("fake_refund", actor=staff("agent"), key="k-3", order_id=order.id,
                                         amount_cents=100))
    theirs = within(start_run, request_for("fake_refund", actor=staff("lead"), key="k-3", order_id=order.id,
                                           amount_cents=100))

    assert mine.id != theirs.id


def test_a_refused_first_answer_is_replayed_as_a_refusal(within, attempt, request_for, staff, console_db):
    agent = staff("agent")
    first = attempt(start_run, request_for("fake_unlock", actor=agent, key="k-4", email="nobody@example.org"))
    before = _runs(console_db)

    again = attempt(start_run, request_for("fake_unlock", actor=agent, key="k-4", email="nobody@example.org"))

    assert (again.status, again.code, again.run.id) == (422, "refused", first.run.id)
    assert _runs(console_db) == before


def test_a_pending_run_is_replayed_as_pending(within, request_for, shop_order, staff):
    order, agent = shop_order(total_cents=50000), staff("agent")
    request = request_for("fake_refund", actor=agent, key="k-5", order_id=order.id, amount_cents=20000)

    first = within(start_run, request)

    assert within(start_run, request).id == first.id and first.status == "pending_approval"


def test_a_request_that_made_no_run_frees_its_key(within, attempt, request_for, shop_order, staff, app,
                                                 monkeypatch, console_db):
    order, agent = shop_order(), staff("agent")
    monkeypatch.setitem(app.config, "TASK_RATE_LIMITS", {"fake_refund": "1/hour"})
    within(start_run, request_for("fake_refund", actor=agent, order_id=order.id, amount_cents=1))

    limited = attempt(start_run, request_for("fake_refund", actor=agent, key="k-6", order_id=order.id,
                                             amount_cents=1))
    assert limited.status == 429
    assert console_db.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-6")) is None
    monkeypatch.setitem(app.config, "TASK_RATE_LIMITS", {})

    assert within(start_run, request_for("fake_refund", actor=agent, key="k-6", order_id=order.id,
                                         amount_cents=1)).status == "succeeded"


def test_an_invalid_key_is_a_400(attempt, request_for, shop_order):
    error = attempt(start_run, request_for("fake_refund", key="k" * 201, order_id=shop_order().id, amount_cents=1))

    assert (error.status, list(error.fields)) == (400, ["idempotency_key"])


def test_a_claim_still_in_progress_is_a_409_after_waiting(within, attempt, request_for, shop_order, staff, app,
                                                          monkeypatch, console_db):
    agent = staff("agent")
    request = request_for("fake_refund", actor=agent, key="k-7", order_id=shop_order().id, amount_cents=1)
    with app.app_context():
        digest = request_hash(check_request(request))
    console_db.add(IdempotencyKey(actor=agent.email, key="k-7", request_hash=digest, created_at=utcnow()))
    console_db.flush()
    monkeypatch.setitem(app.config, "IDEMPOTENCY_WAIT_SECONDS", 0.05)

    error = attempt(start_run, request)

    assert (error.status, error.message) == (409, "a request with this Idempotency-Key is still in progress; "
                                                  "retry shortly")


def test_an_abandoned_claim_is_taken_over(within, request_for, shop_order, staff, console_db, app):
    agent = staff("agent")
    request = request_for("fake_refund", actor=agent, key="k-8", order_id=shop_order().id, amount_cents=1)
    with app.app_context():
        digest = request_hash(check_request(request))
    console_db.add(IdempotencyKey(actor=agent.email, key="k-8", request_hash=digest,
                                  created_at=utcnow() - timedelta(minutes=5)))
    console_db.flush()

    run = within(start_run, request)

    assert run.status == "succeeded"
    console_db.expire_all()
    assert console_db.scalar(select(IdempotencyKey.run_id).where(IdempotencyKey.key == "k-8")) == run.id


def _key_row(console_db, actor: str, key: str, digest: str, age: timedelta, run_id=None) -> None:
    console_db.add(IdempotencyKey(actor=actor, key=key, request_hash=digest, run_id=run_id,
                                  created_at=utcnow() - age))
    console_db.flush()


def test_a_key_older_than_the_keep_time_starts_a_new_run(within, request_for, shop_order, staff, console_db, app,
                                                         monkeypatch):
    agent, order = staff("agent"), shop_order()
    request = lambda: request_for("fake_refund", actor=agent, key="k-9", order_id=order.id, amount_cents=100)
    first = within(start_run, request())
    console_db.execute(IdempotencyKey.__table__.update().where(IdempotencyKey.key == "k-9")
                       .values(created_at=utcnow() - timedelta(seconds=120)))
    console_db.flush()
    monkeypatch.setitem(app.config, "IDEMPOTENCY_KEEP_SECONDS", 300.0)
    assert within(start_run, request()).id == first.id  # still kept: replayed

    monkeypatch.setitem(app.config, "IDEMPOTENCY_KEEP_SECONDS", 60.0)
    second = within(start_run, request())

    assert second.id != first.id and second.status == "succeeded"
    console_db.expire_all()
    assert console_db.scalars(select(IdempotencyKey.run_id).where(IdempotencyKey.key == "k-9")).all() == [second.id]


def test_a_claim_deletes_the_actors_expired_keys_and_no_one_elses(within, request_for, shop_order, staff, console_db,
                                                                  app):
    agent, lead = staff("agent"), staff("lead")
    _key_row(console_db, agent.email, "old-a", "0" * 64, timedelta(days=2))
    _key_row(console_db, agent.email, "recent-a", "0" * 64, timedelta(hours=1))
    _key_row(console_db, lead.email, "old-b", "0" * 64, timedelta(days=2))

    within(start_run, request_for("fake_refund", actor=agent, key="k-10", order_id=shop_order().id, amount_cents=1))

    console_db.expire_all()
    left = set(console_db.execute(select(IdempotencyKey.actor, IdempotencyKey.key)).all())
    assert (agent.email, "old-a") not in left
    assert {(agent.email, "recent-a"), (lead.email, "old-b"), (agent.email, "k-10")} <= left
