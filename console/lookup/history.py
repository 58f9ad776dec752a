"""What the console itself knows about a record: the task runs on it, and the tickets about its customer.

A run records the record its task is offered on and the value its record_param took (record_of); the
record's value fills that parameter of each task offered on it, and record_key makes both the same text,
so a page of any product finds its runs. A run also names its customer (by email): from its parameters, or
from the rows it read of the product's customer record or of a record that BelongsTo it; a customer's page
shows the runs that name them, on their orders or subscriptions too, and the tickets about them. The demo
shop's runs also name an order (subject_from_params).
"""
from __future__ import annotations

from typing import NamedTuple
from weakref import WeakKeyDictionary

from flask.globals import _cv_app
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.engine import Connection

from console.deflection.models import Ticket
from console.direct import send_all
from console.lookup.records import RecordPage, fill_value
from console.tasks.models import TaskRun
from console.tasks.spec import record_key, subject_from_params

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


class Subject(NamedTuple):
    """What the runs of the tasks offered on a record name it by: a customer's email and an order (the demo
    shop's), and the record's own keys as its tasks' record_params take them."""

    customer: str = ""
    order_id: int | None = None
    record: str = ""
    keys: tuple[str, ...] = ()


def subject(page: RecordPage) -> Subject:
    """The Subject that runs of the tasks offered on this record record."""
    registry = _cv_app.get().app.extensions.get("task_registry")
    record = page.reflected.record
    # A customer's own row names them (the product package's record declared with customer="<email column>").
    customer = str(page.values.get(record.customer) or "") if record.customer else ""
    offered = _offered(registry, record.name) if registry is not None else ()
    order_id = None
    for spec in offered:
        value = fill_value(page, spec.record_param)
        found_customer, found_order = subject_from_params(spec, {spec.record_param: value})
        customer, order_id = customer or found_customer, order_id if order_id is not None else found_order
    if customer or order_id is not None:  # runs_about goes by these first: the record's keys are not needed
        return Subject(customer, order_id, record.name)
    keys = dict.fromkeys(key for spec in offered if (key := record_key(spec, fill_value(page, spec.record_param))))
    return Subject("", None, record.name, tuple(keys))


def _runs_call(about: Subject) -> tuple | None:
    """The statement and parameters that read the latest task runs on the subject; None when no task is offered
    on the record."""
    # Core, not the ORM: these rows are only read, and the ORM's per-statement bookkeeping is pure cost.
    if about.order_id is not None:
        return _statement(TaskRun, "order_id", RUN_COLUMNS), {"value": about.order_id}
    if about.customer:  # as runs record it
        return _statement(TaskRun, "customer", RUN_COLUMNS), {"value": about.customer.lower()}
    if not about.keys:
        return None
    return _on_record(len(about.keys)), {"record": about.record,
                                         **{f"key{n}": key for n, key in enumerate(about.keys)}}


def _on_record(count: int):
    """The latest runs on a record by any of its keys (one per record_param its tasks take), built once per count."""
    key = (TaskRun, "record", count)
    statement = _STATEMENTS.get(key)
    if statement is None:
        keys = TaskRun.record_key.in_([bindparam(f"key{n}") for n in range(count)])
        statement = _STATEMENTS[key] = (
            select(*(getattr(TaskRun, name) for name in RUN_COLUMNS))
            .where(TaskRun.record == bindparam("record"), keys)
            .order_by(TaskRun.created_at.desc(), TaskRun.id.desc()).limit(RECENT))
    return statement


def runs_and_tickets(conn: Connection, about: Subject) -> tuple[list | None, list | None]:
    """(the latest task runs on the subject, the latest tickets about its customer by email), read together on
    `conn` (the console's); either is None when the record has no such subject (or the table is not built)."""
    runs = _runs_call(about) if _present(conn, TaskRun) else None
    tickets = (_statement(Ticket, "customer", TICKET_COLUMNS), {"value": about.customer}) \
        if about.customer and _present(conn, Ticket) else None
    calls = [call for call in (runs, tickets) if call is not None]
    found = iter(sent.all() for sent in send_all(conn, calls))
    return (next(found) if runs else None), (next(found) if tickets else None)
