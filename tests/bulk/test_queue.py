"""Where bulk work runs: a 503 when the queue is down, the embedded thread without a queue."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from console.bulk.models import Bulk
from console.bulk.queue import start_bulk_thread
from console.bulk.service import request_bulk
from console.db import console_session, expect_writes
from tests.factories import CustomerFactory, StaffUserFactory, use_sessions


def _token(app, role="agent"):
    from console.auth.services import create_token

    with app.app_context():
        use_sessions(console_session(), None)
        user = StaffUserFactory(role=role)
        token = create_token(console_session(), user, "test")
        console_session().commit()
    return {"Authorization": f"Bearer {token}"}


def test_with_redis_down_a_new_bulk_is_a_503_and_the_rest_keeps_serving(isolated_app):
    app = isolated_app(QUEUE_URL="redis://127.0.0.1:1/0")  # nothing listens there
    headers = _token(app)
    client = app.test_client()
    answer = client.post("/api/v1/tasks/unlock_account/bulk", headers=headers, json={
        "items": [{"email": "someone@example.com"}], "ticket": "T-1", "reason": "incident"})
    assert answer.status_code == 503, answer.get_json()
    assert "CONSOLE_QUEUE_URL" in answer.get_json()["error"]["message"]
    with app.app_context():
        assert console_session().scalar(select(func.count()).select_from(Bulk)) == 0
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200


def test_without_a_queue_the_serving_process_works_through_bulks_in_a_thread(isolated_app):
    app = isolated_app()
    from console.db import target_session

    with app.app_context():
        use_sessions(console_session(), target_session())
        agent = StaffUserFactory(role="agent")
        emails = [CustomerFactory(locked=True).email for _ in range(4)]
        console_session().commit()
        target_session().commit()
    thread = start_bulk_thread(app)
    try:
        with app.app_context():
            expect_writes()  # as a POST does: beside the thread's writes, SQLite must lock first, not fail
            bulk_id = request_bulk("unlock_account", [{"email": e} for e in emails], "T-EMB", "incident",
                                   console_session().merge(agent)).id
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != "finished":
            time.sleep(0.1)
            with app.app_context():
                status = console_session().scalar(select(Bulk.status).where(Bulk.id == bulk_id))
        assert status == "finished"
    finally:
        thread.stop()


def test_with_a_queue_the_serving_process_starts_no_thread(isolated_app):
    app = isolated_app(QUEUE_URL="redis://127.0.0.1:6379/13")
    assert start_bulk_thread(app) is None


def test_consoles_that_share_a_redis_database_see_only_their_own_queue(isolated_app):
    from redis import Redis

    from console.bulk.queue import enqueue, waiting_bulks
    from tests.bulk.processes import REDIS_URL

    staging = isolated_app(QUEUE_URL=REDIS_URL, QUEUE_NAME="console-bulk-staging-test")
    production = isolated_app(QUEUE_URL=REDIS_URL, QUEUE_NAME="console-bulk-production-test")
    Redis.from_url(REDIS_URL).flushdb()
    try:
        enqueue(staging, 7)
        assert waiting_bulks(staging) == {7} and waiting_bulks(production) == set()
    finally:
        Redis.from_url(REDIS_URL).flushdb()
