"""The embedded bulk worker beside the requests it is served with: on SQLite requests wait for the write
lock, never a 503 ("database is locked", seen once on `support-console demo`)."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import select

from console.bulk.models import Bulk
from console.bulk.queue import BulkThread
from console.bulk.service import request_bulk
from console.db import console_session, expect_writes, target_session
from tests.bulk.test_queue import _token
from tests.factories import CustomerFactory, StaffUserFactory, use_sessions

ITEMS = 300


def _sqlite_app(isolated_app):
    app = isolated_app(BULK_CHUNK_ITEMS=20)  # many chunks, and so many pauses, in a few hundred items
    if app.extensions["console_db"].console_engine.dialect.name != "sqlite":
        pytest.skip("the pause between chunks is SQLite's: PostgreSQL locks rows, not the database")
    return app


def _bulk(app, count: int) -> int:
    with app.app_context():
        use_sessions(console_session(), target_session())
        agent = StaffUserFactory(role="agent")
        emails = [CustomerFactory(locked=True).email for _ in range(count)]
        console_session().commit()
        target_session().commit()
        expect_writes()
        return request_bulk("unlock_account", [{"email": email} for email in emails], "T-EMB", "incident",
                            console_session().merge(agent)).id


def _status(app, bulk_id: int) -> str:
    with app.app_context():
        return console_session().scalar(select(Bulk.status).where(Bulk.id == bulk_id))


def test_the_embedded_worker_pauses_with_the_write_lock_free(isolated_app):
    """Its pause held the lock: the claimed items were read in a transaction begun IMMEDIATE, left open."""
    app = _sqlite_app(isolated_app)
    path = app.extensions["console_db"].console_engine.url.database
    bulk_id = _bulk(app, 60)
    thread = BulkThread(app)
    pausing, probes = thread._stopping, []

    def probe_the_lock() -> bool:
        stopping = pausing()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)  # no busy wait: a held lock fails now
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            probes.append("free")
        except sqlite3.OperationalError as exc:
            probes.append(str(exc))
        finally:
            other.close()
        return stopping

    thread._stopping = probe_the_lock
    assert thread.work_once() == 60
    assert len(probes) == 3 and set(probes) == {"free"}, probes
    assert _status(app, bulk_id) == "finished"


def test_requests_beside_an_embedded_bulk_wait_for_the_lock_and_never_get_a_503(isolated_app):
    app = _sqlite_app(isolated_app)
    headers = _token(app, "lead")
    bulk_id = _bulk(app, ITEMS)
    answers: list[tuple[str, int]] = []
    done = threading.Event()

    def ask(worker: int) -> None:
        client = app.test_client()
        count = 0
        while not done.is_set():
            count += 1
            wrote = client.post(f"/api/v1/tickets/W-{worker}-{count}/outcome", headers=headers,
                                json={"outcome": "resolved", "category": "account"})
            answers.append(("outcome", wrote.status_code))
            read = client.get(f"/api/v1/bulk/{bulk_id}", headers=headers)
            answers.append(("bulk", read.status_code))

    askers = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for asker in askers:
        asker.start()
    thread = BulkThread(app).start()
    thread.wake()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and _status(app, bulk_id) != "finished":
            time.sleep(0.2)
    finally:
        done.set()
        for asker in askers:
            asker.join()
        thread.stop()
    assert _status(app, bulk_id) == "finished"
    assert len(answers) > 20
    assert {status for _, status in answers} == {200}, [answer for answer in answers if answer[1] != 200][:5]
