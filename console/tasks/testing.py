"""Pytest fixtures for task authors, for any product: a plugin's test is a few lines.

Register them with `pytest_plugins = ["console.tasks.testing"]` in a conftest.py. They build on four fixtures
that conftest provides: `app` (a console app whose PRODUCT_PACKAGE and TASK_PACKAGES are yours, its target
database holding your tables: `create_product_tables(app)` makes them from the package's METADATA), `dbs` (both
databases bound to transactions rolled back after each test), `target_db` (a session on the target database)
and `make_user(role)`. This repository's tests/conftest.py defines all four. Every run goes through the real
runner (permissions, validation, preview, approval, audit, ticket link); nothing here names a product table.

    def test_refund(demo_records, run_task, target_row):
        run = run_task("refund_order", order_id=1004, amount_cents=3000)
        assert run.status == "succeeded"
        assert target_row("orders", id=1004)["refunded_cents"] == 3000
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from console.db import utcnow
from console.tasks.context import OUTBOX_TABLE
from console.tasks.runner import RunRequest, TaskError, approve_run, preview, start_run, undo_run

__all__ = ["TaskError", "approve", "count_rows", "create_product_tables", "demo_records", "demo_shop", "outbox",
           "preview_task", "run_task", "target_row", "task_user", "undo"]

TEST_TICKET = "T-TEST"
TEST_REASON = "plugin test"


def create_product_tables(app) -> None:
    """Create the product package's tables (its METADATA) in the app's target database, for tests.

    A real product's package owns no schema (`init` never touches its database), so a test database gets the
    tables the package declares; a package that declares none must have them created by its own migrations.
    """
    product = app.extensions["product"]
    if product.metadata is None:
        raise LookupError(f"PRODUCT_PACKAGE {product.package} declares no METADATA: create its tables in the "
                          "test database another way (its migrations), or declare METADATA = MetaData(...)")
    product.metadata.create_all(app.extensions["console_db"].target_engine, checkfirst=True)


def _table(app, target_db, name: str):
    """The table as the product package declares it (METADATA), else as the tasks see it (reflected once per app).

    Declared types read back as written (a MySQL boolean is True, not the 1 of its TINYINT).
    """
    declared = app.extensions["product"].metadata
    if declared is not None and name in declared.tables:
        return declared.tables[name]
    return app.extensions["task_tables"].get(name, target_db)


@pytest.fixture
def task_user(make_user):
    """One staff user per role, made on first use: task_user("lead")."""
    made: dict = {}

    def get(role: str = "agent"):
        if role not in made:
            made[role] = make_user(role)
        return made[role]

    return get


def _request(name, params, *, as_role, as_user, ticket, reason, task_user, **extra) -> RunRequest:
    actor = as_user if as_user is not None else task_user(as_role)
    return RunRequest(task=name, params=params, ticket=ticket, reason=reason, actor=actor, source="cli", **extra)


def _run_or_refusal(action):
    """The run an action made, refused ones included; TaskError when there is none (400, 403, 404)."""
    try:
        return action()
    except TaskError as exc:
        if exc.run is not None:
            return exc.run
        raise


@pytest.fixture
def run_task(app, dbs, task_user):
    """Run a task as a role (or a user) and return the TaskRun, refused and failed ones included.

    run_task(name, as_role="agent", as_user=None, ticket="T-TEST", reason="plugin test", idempotency_key=None,
    **params). Invalid input, a forbidden role or an unknown task raise TaskError (status 400, 403, 404).
    """

    def run(name: str, *, as_role: str = "agent", as_user=None, ticket: str = TEST_TICKET,
            reason: str = TEST_REASON, idempotency_key: str | None = None, **params):
        request = _request(name, params, as_role=as_role, as_user=as_user, ticket=ticket, reason=reason,
                           task_user=task_user, idempotency_key=idempotency_key)
        with app.app_context():
            return _run_or_refusal(lambda: start_run(request))

    return run


@pytest.fixture
def preview_task(app, dbs, task_user):
    """Preview a task and return the Preview (changes, effects, summary, risk, needs_approval).

    A refusal raises TaskError with status 422 and the refusal as its message.
    """

    def run(name: str, *, as_role: str = "agent", as_user=None, ticket: str = TEST_TICKET,
            reason: str = TEST_REASON, **params):
        request = _request(name, params, as_role=as_role, as_user=as_user, ticket=ticket, reason=reason,
                           task_user=task_user)
        with app.app_context():
            return preview(request)

    return run


@pytest.fixture
def approve(app, task_user):
    """Have a lead (not the requester) approve a pending run, which executes it: approve(run) -> the run."""

    def decide(run, *, reason: str = "Checked the ticket and the record"):
        assert run.status == "pending_approval", run.error
        with app.app_context():
            return approve_run(run.id, task_user("lead"), reason)

    return decide


@pytest.fixture
def undo(app, task_user):
    """Have a lead undo a run: undo(run) -> the undo run, refused ones included."""

    def reverse(run, *, reason: str = "Run by mistake"):
        with app.app_context():
            return _run_or_refusal(lambda: undo_run(run.id, task_user("lead"), run.ticket, reason))

    return reverse


@pytest.fixture
def demo_records(app, dbs, target_db):
    """Insert the product package's named demo records (its `demo_records(now)` hook) into the test's database.

    In the demo shop: locked@example.com (locked, 5 failed logins), unconfirmed@example.com, alice@example.com
    with orders 1001 (paid, not shipped, 5000), 1002 (shipped), 1003 (stuck in processing, payment captured)
    and 1004 (delivered, 25000, nothing refunded).
    """
    rows = app.extensions["product"].demo_records(utcnow())
    for table_name, values in rows:
        target_db.execute(insert(_table(app, target_db, table_name)).values(values))
    target_db.flush()
    return target_db


@pytest.fixture
def demo_shop(demo_records):
    """The same as demo_records, under the name the demo shop's tests use."""
    return demo_records


@pytest.fixture
def target_row(app, dbs, target_db):
    """Read one row of the product database as a dict (or None): target_row("orders", id=1004)."""

    def read(table_name: str, **where) -> dict | None:
        table = _table(app, target_db, table_name)
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        row = target_db.execute(query.limit(2)).mappings().all()
        assert len(row) < 2, f"more than one {table_name} row matches {where}"
        return dict(row[0]) if row else None

    return read


@pytest.fixture
def outbox(app, dbs, target_db):
    """(to_address, template) of the emails tasks queued (the outbox table) matching the conditions, oldest first."""

    def read(**where) -> list[tuple[str, str]]:
        table = _table(app, target_db, OUTBOX_TABLE)
        query = select(table.c.to_address, table.c.template).order_by(*table.primary_key.columns)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return [tuple(row) for row in target_db.execute(query)]

    return read


@pytest.fixture
def count_rows(app, dbs, target_db):
    """How many rows a product table holds now: count_rows("refunds") (a mapped class works too)."""

    def count(table) -> int:
        name = getattr(table, "__tablename__", table)
        return target_db.scalar(select(func.count()).select_from(_table(app, target_db, name)))

    return count
