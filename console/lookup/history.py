"""What the console itself knows about a record: the task runs on it, and the tickets about its customer.

A run records its subject as the task framework reads it from the parameters (a customer's email, an
order); the record's value fills the parameter of each task offered on it, and the framework's own
rule (subject_from_params) says which subject that is, so this module guesses no parameter names.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from flask.globals import _cv_app
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.engine import Connection

from console.deflection.models import Ticket
from console.lookup.records import RecordPage, fill_value
from console.tasks.models import TaskRun
from console.tasks.spec import subject_from_params

RECENT = 20
RUN_COLUMNS = ("id", "task", "status", "ticket", "actor", "created_at")
TICKET_COLUMNS = ("id", "ref", "outcome", "category", "created_at")
_STATEMENTS: dict[tuple, object] = {}
_OFFERED: WeakKeyDictionary = WeakKeyDictionary()  # task registry -> {record: [specs offered on it]}


def _present(conn: Connection, model) -> bool:
    """True when the model's table exists (checked once per app): lookups work while migrations lag."""
    present = _cv_app.get().app.extensions.setdefault("lookup_tables_present", {})  # not the current_app proxy
    if model.__tablename__ not in present:
        present[model.__tablename__] = inspect(conn).has_table(model.__tablename__)
    return present[model.__tablename__]


def _statement(model, where: str, columns: tuple[str, ...]):
    """The latest rows of `model` whose `where` column equals :value, built once (building cost more than running)."""
    key = (model, where)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = (
            select(*(getattr(model, name) for name in columns)).where(getattr(model, where) == bindparam("value"))
            .order_by(model.created_at.desc(), model.id.desc()).limit(RECENT))
    return statement


def _offered(registry, record: str) -> list:
    """Every task offered on the record, disabled ones too (their past runs are still the record's), once per
    registry: all_specs sorts the registry on every call."""
    by_record = _OFFERED.setdefault(registry, {})
    if record not in by_record:
        by_record[record] = [spec for spec in registry.all_specs() if spec.offered_on == record]
    return by_record[record]


def subject(page: RecordPage) -> tuple[str, int | None]:
    """(customer email, order id) that runs of the tasks offered on this record record as their subject."""
    registry = _cv_app.get().app.extensions.get("task_registry")
    customer, order_id = "", None
    for spec in _offered(registry, page.reflected.record.name) if registry is not None else ():
        found_customer, found_order = subject_from_params(spec, {spec.record_param: fill_value(page, spec.record_param)})
        customer, order_id = customer or found_customer, order_id if order_id is not None else found_order
    return customer, order_id


def runs_about(conn: Connection, customer: str, order_id: int | None) -> list | None:
    """The latest task runs on the subject (read on `conn`, the console's); None when no task is offered on the
    record (or runs are not built)."""
    if not _present(conn, TaskRun):
        return None
    if order_id is not None:
        where, value = "order_id", order_id
    elif customer:
        where, value = "customer", customer.lower()  # as runs record it
    else:
        return None
    # Core, not the ORM: these rows are only read, and the ORM's per-statement bookkeeping is pure cost.
    return conn.execute(_statement(TaskRun, where, RUN_COLUMNS), {"value": value}).all()


def tickets_about(conn: Connection, customer: str) -> list | None:
    """The latest tickets about the customer (by email); None when the record has no customer subject."""
    if not customer or not _present(conn, Ticket):
        return None
    return conn.execute(_statement(Ticket, "customer", TICKET_COLUMNS), {"value": customer}).all()
