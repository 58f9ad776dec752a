"""A bulk started from rows selected on a record list: the task and the records' keys become the CSV to preview.

A record list sends `task=<name>` and one `key=<record key>` per selected row. The task must be one this
person may run and one offered on records; each key must be a record of that kind. The CSV's header is the
task's `record_param`, and each row the value that record gives it: its column of that name, else its key
(the rule of a record page's task links). The keys travel in the address, never the values they lead to
(an email is personal data); the values appear in the form, as on a task form filled from a record.
"""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from console.bulk.settings import MAX_ITEMS
from console.db import target_session
from console.product.queries import coerce
from console.product.schema import product_schema
from console.tasks.checks import TaskError
from console.tasks.presenting import find_task
from console.tasks.registry import may_run


def _refuse(field: str, message: str) -> TaskError:
    return TaskError(400, "invalid", "The selected records cannot fill in a bulk:", {field: message})


def _offered_spec(name: str, user):
    spec = find_task(name)
    if spec is None or not may_run(user, spec):
        raise _refuse("task", f"there is no task {name!r} you may run")
    if not spec.offered_on:
        raise _refuse("task", f"{name} is not offered on records; paste its CSV instead")
    return spec


def _values(reflected, param: str, keys: list) -> list:
    """Each key's value of `param`, in the order selected; a 400 naming a key that is no record."""
    column = reflected.table.c[param] if param in reflected.table.c else reflected.key
    found = dict(target_session().execute(select(reflected.key, column).where(reflected.key.in_(keys))).all())
    missing = [key for key in keys if key not in found]
    if missing:
        shown = ", ".join(str(key) for key in missing[:10])
        raise _refuse("key", f"no {reflected.record.name} record has the key {shown}")
    return [found[key] for key in keys]


def selected_csv(name: str, raw_keys: list[str], user) -> tuple[str, str]:
    """(the task's name, the CSV of the selected records), or a 400 naming the field that is wrong."""
    spec = _offered_spec(name.strip(), user)
    if not raw_keys:
        raise _refuse("key", "select at least one record")
    if len(raw_keys) > MAX_ITEMS:
        raise _refuse("key", f"at most {MAX_ITEMS} records make one bulk; {len(raw_keys)} were selected")
    reflected = product_schema().record(spec.offered_on)
    if reflected is None:
        raise _refuse("task", f"{spec.name} is offered on {spec.offered_on}, which this console does not list")
    keys = {}  # in the order selected; a row selected twice is one item
    for raw in raw_keys:
        key = coerce(reflected.key, raw.strip())
        if key is None:
            raise _refuse("key", f"{raw[:40]!r} is not a key of a {reflected.record.name} record")
        keys[key] = None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spec.record_param])
    writer.writerows([value] for value in _values(reflected, spec.record_param, list(keys)))
    return spec.name, out.getvalue()
