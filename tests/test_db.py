"""The two databases under concurrent writers: nobody is turned away because someone else wrote first.

On SQLite a transaction that has read cannot wait for a writer to finish (SQLITE_BUSY_SNAPSHOT comes
back at once); these tests failed with 503s before requests that write took the lock up front.
They run on both databases.
"""
import threading
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select

from admin_tasks.shop_schema import Customer
from console.audit.models import AuditEntry
from console.auth.services import create_token
from console.db import Databases, utcnow
from tests.committed import make_committed_user
from tests.conftest import TEST_PASSWORD, csrf_token_from
from tests.factories import StaffUserFactory

THREADS = 4
ROUNDS = 5


def _together(work, count: int = THREADS) -> list:
    """Run work(index) in `count` threads started at the same moment; return what each returned."""
    barrier = threading.Barrier(count)
    found: list = [None] * count

    def worker(index: int):
        barrier.wait(60)
        try:
            found[index] = work(index)
        except Exception as exc:  # a crash is a result too: it must show in the assertion
            found[index] = f"{exc.__class__.__name__}: {exc}"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return found


def test_staff_logging_in_at_the_same_moment_all_get_in(isolated_app):
    app = isolated_app()
    emails = [make_committed_user(app, "agent") for _ in range(THREADS)]

    def log_in_repeatedly(index: int) -> list[int]:
        codes = []
        for _ in range(ROUNDS):
            client = app.test_client()
            token = csrf_token_from(client.get("/login").get_data(as_text=True))
            codes.append(client.post("/login", data={"email": emails[index], "password": TEST_PASSWORD,
                                                     "csrf_token": token}).status_code)
        return codes

    codes = Counter(code for found in _together(log_in_repeatedly) for code in found)
    assert codes == Counter({302: THREADS * ROUNDS})
    with app.app_context():
        session = app.extensions["console_db"].console_factory()
        logins = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login"))
        session.close()
    assert logins == THREADS * ROUNDS


def test_agents_running_tasks_at_the_same_moment_all_succeed(isolated_app):
    app = isolated_app()
    dbs = app.extensions["console_db"]
    now = utcnow()
    with dbs.target_engine.begin() as conn:
        conn.execute(insert(Customer), [
            {"id": i + 1, "email": f"locked{i}@example.org", "name": f"Locked {i}", "status": "locked",
             "email_confirmed": True, "failed_login_count": 5, "created_at": now, "updated_at": now}
            for i in range(THREADS * ROUNDS)])
    session = dbs.console_factory()
    from tests.factories import use_sessions

    use_sessions(session, None)
    tokens = [create_token(session, StaffUserFactory(role="agent"), "race") for _ in range(THREADS)]
    session.commit()
    session.close()
    use_sessions(None, None)

    def run_repeatedly(index: int) -> list[tuple[int, str]]:
        client, found = app.test_client(), []
        for round_ in range(ROUNDS):
            # An idempotency key commits its claim first: the request then locks the two databases
            # in two steps, which is where a lock-order deadlock would show.
            response = client.post(
                "/api/v1/tasks/unlock_account/runs",
                json={"params": {"email": f"locked{index * ROUNDS + round_}@example.org"}, "ticket": f"T-{index}",
                      "reason": "customer asked"},
                headers={"Authorization": f"Bearer {tokens[index]}", "Idempotency-Key": f"k-{index}-{round_}"})
            found.append((response.status_code, (response.get_json() or {}).get("run", {}).get("status", "")))
        return found

    outcomes = Counter(item for found in _together(run_repeatedly) for item in found)
    assert outcomes == Counter({(201, "succeeded"): THREADS * ROUNDS})
    with dbs.target_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Customer).where(Customer.status == "active")) \
            == THREADS * ROUNDS


def test_on_sqlite_only_requests_that_write_take_the_lock_up_front(isolated_app):
    app = isolated_app()
    if app.extensions["console_db"].console_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL waits for row locks by itself; the BEGIN rule is SQLite's")
    dbs = app.extensions["console_db"]
    seen: list[str] = []

    def trace(statement):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    # What SQLite itself executes: the BEGIN goes straight to the driver, past SQLAlchemy's events.
    def listen(dbapi_connection, _record, _proxy):
        dbapi_connection.set_trace_callback(trace)

    event.listen(dbs.console_engine, "checkout", listen)
    client = app.test_client()
    email = make_committed_user(app, "agent")
    page = client.get("/login")
    seen.clear()
    client.post("/login", data={"email": email, "password": TEST_PASSWORD,
                                "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert seen and set(seen) == {"BEGIN IMMEDIATE"}, seen
    seen.clear()
    client.get("/admin/")
    assert seen and set(seen) == {"BEGIN"}, seen
    event.remove(dbs.console_engine, "checkout", listen)



def test_a_get_that_audits_is_not_turned_away_by_a_writer_between_its_read_and_its_entry(isolated_app, monkeypatch):
    # The audit export reads (the signed-in user) and then writes its entry. Another writer commits in between:
    # on SQLite a read transaction cannot then write (SQLITE_BUSY_SNAPSHOT), and the export answered 503.
    from console.audit import browse
    from console.audit.chain import record_event

    app = isolated_app()
    dbs = app.extensions["console_db"]
    client = app.test_client()
    email = make_committed_user(app, "admin")
    page = client.get("/login")
    client.post("/login", data={"email": email, "password": TEST_PASSWORD,
                                "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    parse = browse.parse_filter

    def parse_then_someone_writes(args):
        other = dbs.console_factory()
        try:
            record_event(other, actor="other@example.com", action="logout", subject_type="user")
        finally:
            other.close()
        return parse(args)

    monkeypatch.setattr(browse, "parse_filter", parse_then_someone_writes)
    answer = client.get("/admin/audit/export.csv")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert "audit.export" in answer.get_data(as_text=True)
    with dbs.console_engine.connect() as conn:
        actions = conn.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(2)).all()
    assert actions == ["audit.export", "logout"]


def _refusing(message: str):
    """A session's close() that fails, as when the connection it returns is found broken."""

    def close():
        raise OSError(message)

    return close


def test_ending_a_context_closes_the_second_session_when_closing_the_first_fails(tmp_path, monkeypatch):
    dbs = Databases(f"sqlite:///{tmp_path / 'console.db'}", f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with Flask(__name__).app_context():
            dbs.console().connection()
            dbs.target().connection()
            assert dbs.console_engine.pool.checkedout() == 1 and dbs.target_engine.pool.checkedout() == 1

            monkeypatch.setattr(dbs.console(), "close", _refusing("the console's connection could not be returned"))
            with pytest.raises(OSError, match="could not be returned"):
                dbs.remove()
            assert dbs.target_engine.pool.checkedout() == 0
            # Neither failed session is handed out again in this context: both were forgotten.
            assert not dbs.console.registry.has() and not dbs.target.registry.has()
    finally:
        dbs.dispose()


def test_when_both_sessions_fail_to_close_the_first_failure_is_raised(tmp_path, monkeypatch):
    dbs = Databases(f"sqlite:///{tmp_path / 'console.db'}", f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with Flask(__name__).app_context():
            for scoped, name in ((dbs.console, "console"), (dbs.target, "target")):
                monkeypatch.setattr(scoped(), "close", _refusing(name))
            with pytest.raises(OSError, match="^console$"):
                dbs.remove()
    finally:
        dbs.dispose()
