"""What the console itself knows about a customer or an order: task runs and tickets.

These tables belong to the tasks and deflection domains; a console built without one of them
still shows customers and orders, so each is looked up only when its model can be imported.
"""
from __future__ import annotations

from importlib import import_module

from flask import current_app
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session

RECENT = 20


def _model(module: str, name: str):
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _present(session: Session, model) -> bool:
    """True when the model's table exists (checked once per app): lookups work while migrations lag."""
    if model is None:
        return False
    present = current_app.extensions.setdefault("lookup_tables_present", {})
    if model.__tablename__ not in present:
        present[model.__tablename__] = inspect(session.get_bind()).has_table(model.__tablename__)
    return present[model.__tablename__]


def task_run_model():
    return _model("console.tasks.models", "TaskRun")


def ticket_model():
    return _model("console.deflection.models", "Ticket")


_STATEMENTS: dict[tuple, object] = {}


def _statement(model, where: str, columns: tuple[str, ...]):
    """The SELECT of the latest rows of `model` whose `where` column equals :value, built once per model.

    Building it per request cost more than running it (measured, like records.py).
    """
    key = (model, where)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = (
            select(*(getattr(model, name) for name in columns)).where(getattr(model, where) == bindparam("value"))
            .order_by(model.created_at.desc(), model.id.desc()).limit(RECENT))
    return statement


RUN_COLUMNS = ("id", "task", "status", "ticket", "actor", "created_at")
TICKET_COLUMNS = ("id", "ref", "outcome", "category", "created_at")


def runs_about(session: Session, *, customer: str | None = None, order_id: int | None = None) -> list | None:
    """Return the latest task runs about a customer (by email) or an order; None if runs are not built."""
    TaskRun = task_run_model()
    if not _present(session, TaskRun):
        return None
    if order_id is not None and hasattr(TaskRun, "order_id"):
        where, value = "order_id", order_id
    elif customer is not None and hasattr(TaskRun, "customer"):
        where, value = "customer", customer.lower()  # as runs record it
    else:
        return None
    # Core, not the ORM: these rows are only read, and the ORM's per-statement bookkeeping is pure cost.
    return session.connection().execute(_statement(TaskRun, where, RUN_COLUMNS), {"value": value}).all()


def tickets_about(session: Session, customer: str) -> list | None:
    """Return the latest tickets about a customer (by email); None if tickets are not built."""
    Ticket = ticket_model()
    if not _present(session, Ticket) or not hasattr(Ticket, "customer"):
        return None
    return session.connection().execute(_statement(Ticket, "customer", TICKET_COLUMNS),
                                        {"value": customer}).all()
