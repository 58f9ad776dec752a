"""Pytest fixtures for task authors: a plugin's test is a few lines.

Registered for the whole suite by `pytest_plugins = ["console.tasks.testing"]` in tests/conftest.py; they build on
that conftest's `app`, `dbs` and `make_user` fixtures, so every run happens inside the test's rolled-back
transaction and goes through the real runner (permissions, validation, preview, audit, ticket link).

    def test_refund(demo_shop, run_task, target_row):
        run = run_task("refund_order", order_id=1004, amount_cents=3000)
        assert run.status == "succeeded"
        assert target_row("orders", id=1004)["refunded_cents"] == 3000
"""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from console.tasks.runner import RunRequest, TaskError, preview, start_run

__all__ = ["TaskError", "demo_shop", "preview_task", "run_task", "target_row"]

TEST_TICKET = "T-TEST"
TEST_REASON = "plugin test"


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
            try:
                return start_run(request)
            except TaskError as exc:
                if exc.run is not None:
                    return exc.run
                raise

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
def demo_shop(dbs, target_db):
    """Load the named demo records (console/demo/shop_named.py) into the test's target database.

    locked@example.com (locked, 5 failed logins), unconfirmed@example.com, alice@example.com with orders 1001
    (paid, not shipped, 5000), 1002 (shipped), 1003 (stuck in processing, payment captured) and 1004
    (delivered, 25000, nothing refunded).
    """
    from console.db import utcnow
    from console.demo.shop_named import named_rows

    for model, values in named_rows(utcnow()):
        target_db.execute(insert(model.__table__).values(values))
    target_db.flush()
    return target_db


@pytest.fixture
def target_row(dbs, target_db):
    """Read one row of the shop as a dict (or None): target_row("orders", id=1004)."""
    from admin_tasks.shop_schema import ShopBase

    def read(table_name: str, **where) -> dict | None:
        table = ShopBase.metadata.tables[table_name]
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        row = target_db.execute(query.limit(2)).mappings().all()
        assert len(row) < 2, f"more than one {table_name} row matches {where}"
        return dict(row[0]) if row else None

    return read
