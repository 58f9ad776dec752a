"""Fake task packages for the framework's tests, and fixtures that put them in the app.

tests/tasks/conftest.py makes the fixtures below available to every test in tests/tasks.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from console.tasks.registry import discover

SHOP = "tests.tasks.fake_tasks.shop"
TICKET = "T-100"
REASON = "customer asked on the phone"


@pytest.fixture
def fake_tasks(app, monkeypatch):
    """Give the session's app the fake shop tasks instead of admin_tasks for this test."""
    registry = discover([SHOP])
    monkeypatch.setitem(app.extensions, "task_registry", registry)
    return registry


@pytest.fixture
def staff(make_user):
    """One staff user per role (or per role and name), made on first use: staff("lead"), staff("lead", "b")."""
    made: dict = {}

    def get(role: str = "agent", name: str = ""):
        if (role, name) not in made:
            made[(role, name)] = make_user(role)
        return made[(role, name)]

    return get


@pytest.fixture
def within(app, dbs):
    """Call a service function inside an app context: within(start_run, request)."""

    def call(fn, *args, **kwargs):
        with app.app_context():
            return fn(*args, **kwargs)

    return call


@pytest.fixture
def attempt(within):
    """Like `within`, but return the TaskError instead of raising it."""
    from console.tasks.runner import TaskError

    def call(fn, *args, **kwargs):
        try:
            within(fn, *args, **kwargs)
        except TaskError as exc:
            return exc
        raise AssertionError(f"{fn.__name__} did not raise TaskError")

    return call


@pytest.fixture
def request_for(staff):
    """Build a RunRequest: request_for("fake_refund", order_id=1, amount_cents=5, as_role="agent")."""
    from console.tasks.runner import RunRequest

    def build(task: str, *, as_role: str = "agent", actor=None, ticket: str = TICKET, reason: str = REASON,
              key: str | None = None, source: str = "api", expected_preview_hash: str | None = None, **params):
        return RunRequest(task=task, params=params, ticket=ticket, reason=reason, actor=actor or staff(as_role),
                          idempotency_key=key, source=source, expected_preview_hash=expected_preview_hash)

    return build


@pytest.fixture
def shop_order(dbs):
    """A paid order of 10000 cents with its customer: shop_order(total_cents=..., status=...)."""
    from tests.factories import CustomerFactory, OrderFactory

    def make(**fields):
        customer = CustomerFactory()
        return OrderFactory(customer_id=customer.id, **{"total_cents": 10000, **fields})

    return make


@pytest.fixture
def counts(dbs, console_db, target_db):
    """Row counts of the tables a run may write, to prove that something wrote nothing."""
    from admin_tasks.shop_schema import OutboxEmail, Refund
    from console.audit.models import AuditEntry
    from console.deflection.models import TicketEvent
    from console.tasks.models import IdempotencyKey, TaskRun

    def read() -> dict:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for session, model in ((console_db, TaskRun), (console_db, AuditEntry), (console_db, TicketEvent),
                                       (console_db, IdempotencyKey), (target_db, Refund), (target_db, OutboxEmail))}

    return read


@pytest.fixture
def audit_for(dbs, console_db):
    """The audit entries of a run, oldest first, as (action, outcome, actor, details dict)."""
    from console.audit.models import AuditEntry

    def read(run_id: int) -> list[tuple[str, str, str, dict]]:
        rows = console_db.scalars(select(AuditEntry).where(AuditEntry.subject_type == "task_run",
                                                           AuditEntry.subject_id == str(run_id))
                                  .order_by(AuditEntry.seq))
        return [(row.action, row.outcome, row.actor, json.loads(row.details)) for row in rows]

    return read


@pytest.fixture
def fresh(dbs, target_db, console_db):
    """Re-read an ORM object from its session (the runner wrote through another session)."""

    def reload(obj):
        session = console_db if obj.__class__.__module__.startswith("console") else target_db
        session.expire_all()
        return session.get(type(obj), obj.id)

    return reload
