"""Faults: the audit store unwritable or unreachable, the target failing mid-transaction, the process killed
between the target commit and the audit outcome, and PostgreSQL dropping every connection while the app serves.

Every test runs on an isolated app (real commits) and checks that nothing is lost or duplicated: the order, its
refunds and emails, the runs, and an audit trail that `audit verify` still accepts.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from console.auth.models import StaffUser
from console.db import console_session, target_session
from console.engines import make_engine
from console.tasks import execution
from console.tasks.runner import RunRequest, TaskError, find_interrupted_runs, start_run
from tests.committed import console_database_down
from tests.security._shop import Shop

PROJECT = Path(__file__).resolve().parents[2]


def postgres_only(test):
    """PostgreSQL alone has server connections to terminate (pg_terminate_backend)."""
    skip = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                              reason="needs PostgreSQL: it terminates server connections (pg_terminate_backend)")
    return pytest.mark.postgres_only(skip(test))


# ---- injecting faults ---------------------------------------------------------------------------

def refuse_inserts(shop: Shop, side: str, table: str, message: str) -> None:
    """Add a trigger that makes every INSERT into `table` fail, as a full disk or a revoked grant would."""
    run = shop.console_sql if side == "console" else shop.target_sql
    if shop.dialect == "postgresql":
        run(f"CREATE OR REPLACE FUNCTION fault_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$")
        run(f"CREATE TRIGGER fault_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault_refuse()")
    else:
        run(f"CREATE TRIGGER fault_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END")


def allow_inserts(shop: Shop, side: str, table: str) -> None:
    run = shop.console_sql if side == "console" else shop.target_sql
    run(f"DROP TRIGGER fault_{table}" + (f" ON {table}" if shop.dialect == "postgresql" else ""))


@contextmanager
def refusing_inserts(shop: Shop, side: str, table: str, message: str):
    refuse_inserts(shop, side, table, message)
    try:
        yield
    finally:
        allow_inserts(shop, side, table)


@contextmanager
def during_apply(monkeypatch, arm, disarm=lambda: None):
    """Arm a fault only while the runner applies a run for real (after its preview), then disarm it."""
    real_apply = execution.apply

    def apply(*args, **kwargs):
        arm()
        try:
            return real_apply(*args, **kwargs)
        finally:
            disarm()

    monkeypatch.setattr(execution, "apply", apply)
    try:
        yield
    finally:
        monkeypatch.setattr(execution, "apply", real_apply)


@contextmanager
def refusing_commit(monkeypatch, message: str):
    """The database refuses the COMMIT of a change that is made and whose intent is audited."""
    real = execution._commit_prepared

    def commit_refused(prepared):
        session = target_session()()  # the Session itself, as the runner commits it

        def refuse():
            raise OperationalError("COMMIT", {}, Exception(message))

        session.commit = refuse
        try:
            return real(prepared)
        finally:
            del session.commit

    monkeypatch.setattr(execution, "_commit_prepared", commit_refused)
    try:
        yield
    finally:
        monkeypatch.setattr(execution, "_commit_prepared", real)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body


# ---- the audit store --------------------------------------------------------------------------

def test_an_unwritable_audit_trail_refuses_runs_and_decisions_and_the_target_stays_unchanged(isolated_app):
    shop = Shop(isolated_app())
    # Requested by an admin: the agent's own refunds on the order must stay under their cap for the retry below.
    pending = shop.run("refund_order", "admin", order_id=1004, amount_cents=20000).get_json()["run"]
    assert pending["status"] == "pending_approval"
    before, runs, entries = shop.order(), shop.runs(), shop.audit_count()

    with refusing_inserts(shop, "console", "audit_entries", "could not extend file: no space left on device"):
        refused = assert_error(shop.run("refund_order", key="K-AUDIT", order_id=1004, amount_cents=3000), 503,
                               "audit_unavailable")
        decided = assert_error(shop.post(f"/api/v1/runs/{pending['id']}/approve", "lead", {"reason": "checked"}),
                               503, "audit_unavailable")
        outcome = shop.post("/api/v1/tickets/T-AUDIT/outcome", "agent", {"outcome": "resolved"})
        preview = shop.post("/api/v1/tasks/refund_order/preview", "agent",
                            {"params": {"order_id": 1004, "amount_cents": 3000}, "ticket": "T-1", "reason": "r"})

    assert "audit" in refused["error"]["message"] and "nothing" in refused["error"]["message"]
    assert "audit" in decided["error"]["message"]
    assert_error(outcome, 503, "audit_unavailable")
    assert preview.status_code == 200  # a preview writes nothing, so it needs no audit entry
    assert shop.order() == before and shop.runs() == runs and shop.audit_count() == entries
    assert shop.console(text("SELECT COUNT(*) FROM tickets WHERE ref = 'T-AUDIT'"))[0][0] == 0
    # The refused request released its Idempotency-Key: the retry runs once the trail is writable again.
    retried = shop.run("refund_order", key="K-AUDIT", order_id=1004, amount_cents=3000)
    assert retried.status_code == 201 and retried.get_json()["run"]["status"] == "succeeded"
    assert shop.order()["refunds"] == [3000] and shop.verify().ok


def test_an_unreachable_console_database_refuses_runs_with_a_503_not_a_500(isolated_app, tmp_path):
    shop = Shop(isolated_app())
    with shop.app.app_context():
        agent = console_session().scalar(select(StaffUser).where(StaffUser.email == shop.emails["agent"]))
        console_session().expunge(agent)
    before, entries = shop.order(), shop.audit_count()

    with console_database_down(shop.app, tmp_path):
        health = shop.client.get("/healthz")
        over_api = shop.run("refund_order", order_id=1004, amount_cents=3000)
        with shop.app.app_context():  # the runner itself, as the CLI calls it
            with pytest.raises(TaskError) as raised:
                start_run(RunRequest(task="refund_order", params={"order_id": 1004, "amount_cents": 3000},
                                     ticket="T-1", reason="unreachable", actor=agent, source="cli"))

    assert health.status_code == 503
    assert over_api.status_code == 503, over_api.get_data(as_text=True)[:300]
    assert over_api.get_json()["error"]["message"]
    # The cap's count reads the console database before the intent does: either says the database is down.
    assert raised.value.status == 503 and raised.value.code in ("unavailable", "audit_unavailable"), raised.value
    assert shop.order() == before and shop.audit_count() == entries and shop.runs() == []
    assert shop.run("refund_order", order_id=1004, amount_cents=3000).status_code == 201  # back on its own
    assert shop.verify().ok


# ---- the target database failing mid-transaction ---------------------------------------------

@pytest.mark.parametrize("stage", ["preview", "execution", "commit"])
def test_a_target_trigger_failing_rolls_the_run_back_and_fails_it(isolated_app, monkeypatch, stage):
    """The refund's UPDATE of the order succeeds, then its INSERT into refunds (or the COMMIT) is refused.

    A run needing no approval makes its change once, holds it uncommitted while its intent is
    audited, then commits: a refusal while making it leaves only a failed outcome; a refused
    COMMIT comes after the intent.
    """
    shop = Shop(isolated_app())
    before = shop.order()
    message = "refunds are frozen by the finance team"
    if stage == "preview":
        with refusing_inserts(shop, "target", "refunds", message):
            response = shop.run("refund_order", order_id=1004, amount_cents=3000)
    elif stage == "execution":
        with during_apply(monkeypatch, lambda: refuse_inserts(shop, "target", "refunds", message),
                          lambda: allow_inserts(shop, "target", "refunds")):
            response = shop.run("refund_order", order_id=1004, amount_cents=3000)
    else:
        with refusing_commit(monkeypatch, message):
            response = shop.run("refund_order", order_id=1004, amount_cents=3000)

    body = assert_error(response, 422, "failed")
    run = body["run"]
    assert run["status"] == "failed" and message in run["error"] and run["changes"] == []
    assert shop.order() == before  # the order's UPDATE was rolled back with the INSERT; no email either
    expected = ([("task.intent", "interrupted"), ("task.outcome", "failed")] if stage == "commit"
                else [("task.outcome", "failed")])
    assert shop.audit(run["id"]) == expected
    assert shop.verify().ok
    assert shop.run("refund_order", order_id=1004, amount_cents=3000).status_code == 201  # nothing left locked


def test_an_error_on_the_second_update_rolls_back_the_first(isolated_app, monkeypatch):
    """Anonymizing a customer updates their row, then the address on each email sent; the second UPDATE fails."""
    shop = Shop(isolated_app())
    shop.target_sql("INSERT INTO email_outbox (customer_id, to_address, template, subject, created_at) "
                    "VALUES (1, 'locked@example.com', 'account_locked', 'Your account is locked', '2026-01-02')")
    pending = shop.run("anonymize_customer", email="locked@example.com").get_json()["run"]
    assert pending["status"] == "pending_approval"
    customers = shop.target(text("SELECT * FROM customers ORDER BY id"))
    emails = shop.target(text("SELECT * FROM email_outbox ORDER BY id"))
    state = {"armed": False, "updates": 0}

    @event.listens_for(shop.dbs.target_engine, "before_cursor_execute")
    def second_update_fails(conn, cursor, statement, parameters, context, executemany):
        if state["armed"] and statement.lstrip().upper().startswith("UPDATE"):
            state["updates"] += 1
            if state["updates"] == 2:
                raise OperationalError(statement, parameters, Exception("server closed the connection"))

    with during_apply(monkeypatch, lambda: state.update(armed=True), lambda: state.update(armed=False)):
        response = shop.post(f"/api/v1/runs/{pending['id']}/approve", "lead", {"reason": "customer asked twice"})
    event.remove(shop.dbs.target_engine, "before_cursor_execute", second_update_fails)

    run = assert_error(response, 422, "failed")["run"]
    assert state["updates"] == 2 and "server closed the connection" in run["error"]
    assert shop.target(text("SELECT * FROM customers ORDER BY id")) == customers
    assert shop.target(text("SELECT * FROM email_outbox ORDER BY id")) == emails
    assert [action for action, _ in shop.audit(run["id"])][-2:] == ["task.intent", "task.outcome"]
    assert shop.audit(run["id"])[-1] == ("task.outcome", "failed") and shop.verify().ok


@postgres_only
def test_the_target_connection_killed_mid_transaction_fails_the_run_and_the_next_one_works(isolated_app,
                                                                                          monkeypatch):
    """The server ends the app's own target connection between the refund's UPDATE and its INSERT."""
    shop = Shop(isolated_app())
    before = shop.order()
    admin = make_engine(shop.urls["target"])
    state = {"armed": False, "killed": 0}

    @event.listens_for(shop.dbs.target_engine, "before_cursor_execute")
    def kill_on_insert(conn, cursor, statement, parameters, context, executemany):
        if state["armed"] and statement.lstrip().upper().startswith("INSERT INTO REFUNDS"):
            state["armed"] = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            state["killed"] += 1

    with during_apply(monkeypatch, lambda: state.update(armed=True), lambda: state.update(armed=False)):
        response = shop.run("refund_order", order_id=1004, amount_cents=3000)
    event.remove(shop.dbs.target_engine, "before_cursor_execute", kill_on_insert)
    admin.dispose()

    run = assert_error(response, 422, "failed")["run"]
    assert state["killed"] == 1 and run["error"].startswith("database error")
    assert shop.order() == before
    assert shop.audit(run["id"]) == [("task.outcome", "failed")]  # killed while making the change: no intent yet
    again = shop.run("refund_order", order_id=1004, amount_cents=3000)
    assert again.status_code == 201 and shop.order()["refunds"] == [3000] and shop.verify().ok


# ---- the process killed between the target commit and the audit outcome ----------------------

def kill_a_run(shop: Shop, crash: str, key: str) -> subprocess.CompletedProcess:
    config = {name: shop.app.config[name] for name in ("TESTING", "SECRET_KEY", "CONSOLE_AUDIT_KEY",
                                                       "CONSOLE_DATABASE_URL", "TARGET_DATABASE_URL",
                                                       "RATELIMIT_ENABLED")}
    job = {"config": config, "crash": crash, "actor": shop.emails["agent"], "task": "refund_order",
           "params": {"order_id": 1004, "amount_cents": 3000}, "ticket": "T-CRASH", "key": key,
           "reason": "security test"}  # the same request as Shop.run sends, so that a retry replays it
    return subprocess.run([sys.executable, "-m", "tests.security._crash_child", json.dumps(job)], cwd=PROJECT,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("crash", ["after_commit", "before_commit"])
def test_a_run_killed_around_the_commit_is_interrupted_then_reconciled_once(isolated_app, crash):
    shop = Shop(isolated_app(RECONCILE_AFTER_SECONDS=0, IDEMPOTENCY_WAIT_SECONDS=0.3))
    before = shop.order()

    child = kill_a_run(shop, crash, key="K-CRASH")

    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    [(run_id, _task, status, _error, _result)] = shop.runs()
    assert status == "interrupted"
    committed = crash == "after_commit"
    order = shop.order()
    # After the commit the refund is there but its email is not (the effects come after the commit).
    assert (order["refunded_cents"], order["refunds"], order["emails"]) == (
        (3000, [3000], []) if committed else (before["refunded_cents"], before["refunds"], before["emails"]))
    assert shop.audit(run_id) == [("task.intent", "interrupted")] and shop.verify().ok
    # The restarted app shows it, finds it, and a retry with the same key replays it instead of refunding again.
    assert shop.client.get(f"/api/v1/runs/{run_id}", headers=shop.tokens["agent"]).get_json()["run"][
        "status"] == "interrupted"
    with shop.app.app_context():
        assert [run.id for run in find_interrupted_runs(older_than_seconds=0)] == [run_id]
    retry = shop.run("refund_order", key="K-CRASH", ticket="T-CRASH", order_id=1004, amount_cents=3000)
    assert retry.status_code == 409 and retry.get_json()["error"]["code"] == "conflict", retry.get_json()
    assert retry.get_json().get("run", {}).get("id") == run_id and len(shop.runs()) == 1, retry.get_json()

    settled = shop.post(f"/api/v1/runs/{run_id}/reconcile", "lead", {"reason": "the worker was killed"})

    run = settled.get_json()["run"]
    assert settled.status_code == 200 and run["status"] == ("succeeded" if committed else "failed")
    order = shop.order()
    assert order["refunds"] == ([3000] if committed else [])
    assert order["emails"] == (["refund_issued"] if committed else [])  # the lost email is queued, once
    assert "queued 1 email" in run["result"] if committed else "before the change was committed" in run["error"]
    assert shop.audit(run_id) == [("task.intent", "interrupted"), ("task.reconcile", run["status"])]
    assert shop.post(f"/api/v1/runs/{run_id}/reconcile", "lead", {}).status_code == 409
    replay = shop.run("refund_order", key="K-CRASH", ticket="T-CRASH", order_id=1004, amount_cents=3000)
    assert replay.status_code == (201 if committed else 422) and replay.get_json()["run"]["id"] == run_id
    assert shop.order()["refunds"] == ([3000] if committed else []) and len(shop.runs()) == 1
    events = shop.client.get("/api/v1/tickets/T-CRASH", headers=shop.tokens["agent"]).get_json()["ticket"]["events"]
    assert [e.get("run_id") for e in events if e.get("run_id") is not None] == [run_id]
    assert shop.verify().ok


# ---- PostgreSQL restarted while the app serves -----------------------------------------------

def terminate_backends(url: str) -> int:
    """End every server connection to the database of `url` (but this one), as a PostgreSQL restart does."""
    admin = make_engine(url)
    try:
        with admin.connect() as conn:
            name = conn.scalar(text("SELECT current_database()"))
            ended = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).all()
            conn.commit()
        return len(ended)
    finally:
        admin.dispose()


@postgres_only
def test_the_app_recovers_on_its_own_when_postgresql_drops_every_connection(isolated_app):
    """The pools' checkout check (console/db.py) replaces the dead connections; a pool without it hands them out.

    The cluster is shared with other test runs on this machine, so it is not really restarted
    (`pg_ctlcluster ... restart`): ending every server connection to this test's two databases does to
    the app's pools exactly what a restart does.
    """
    shop = Shop(isolated_app())
    assert shop.run("unlock_account", email="locked@example.com").status_code == 201  # the pools hold connections
    bare = make_engine(shop.urls["target"], pool_pre_ping=False)
    with bare.connect() as conn:
        conn.execute(text("SELECT 1"))

    ended = terminate_backends(shop.urls["console"]) + terminate_backends(shop.urls["target"])

    assert ended >= 3  # the app's console and target connections and the bare pool's
    with pytest.raises(OperationalError), bare.connect() as conn:
        conn.execute(text("SELECT 1"))  # the fault is real: without pre-ping the dead connection is used
    bare.dispose()
    assert shop.client.get("/healthz").status_code == 200
    assert shop.client.get("/api/v1/tasks", headers=shop.tokens["agent"]).status_code == 200
    response = shop.run("refund_order", order_id=1004, amount_cents=3000)
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    run_id = response.get_json()["run"]["id"]
    assert shop.audit(run_id) == [("task.intent", "interrupted"), ("task.outcome", "succeeded")]
    assert shop.order()["refunds"] == [3000] and shop.order()["emails"] == ["refund_issued"] and shop.verify().ok
