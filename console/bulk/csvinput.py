"""A CSV of items: a header row of the task's parameter names, then one item per row.

The first data row is item 0 (the file's row 2). Refused with a 400 naming the row and the column,
before anything is queued: an empty file, a header that is not the task's parameters (an unknown or
repeated name, a required one missing), a row with too many or too few cells, more than MAX_ITEMS
rows, a cell starting with = + - or @ (a spreadsheet would run it as a formula when the items are
exported again), and every value of a wrong type (the runner's own parameter check names it).
"""
from __future__ import annotations

import csv
import io

from console.bulk.settings import MAX_ITEMS
from console.tasks.checks import TaskError
from console.tasks.spec import TaskSpec

FORMULA_START = ("=", "+", "-", "@")
_ITEM = "items["


def _bad(message: str, fields: dict) -> TaskError:
    return TaskError(400, "invalid", f"the CSV is invalid, nothing was queued: {message}", fields)


def row_of(index: int) -> int:
    """The file's row number (the header is row 1) of item `index`."""
    return index + 2


def _header(row: list[str], spec: TaskSpec) -> list[str]:
    names = [cell.strip().lstrip("\ufeff") for cell in row]
    known = {p.name for p in spec.params}
    fields = {}
    for column, name in enumerate(names, start=1):
        if name not in known:
            fields[f"header.{column}"] = (f"row 1, column {column}: {name!r} is not a parameter of {spec.name}; "
                                          f"it takes: {', '.join(sorted(known)) or 'no parameters'}")
        elif names.index(name) != column - 1:
            fields[f"header.{column}"] = f"row 1, column {column}: {name!r} is given twice"
    for p in spec.params:
        if p.required and p.name not in names:
            fields[f"header.{p.name}"] = f"row 1: the required column {p.name!r} is missing"
    if fields:
        raise _bad("the header row must name the task's parameters", fields)
    return names


def parse_csv(data: bytes | str, spec: TaskSpec) -> list[dict]:
    """The items of a CSV, each {column: text}; empty cells are left out (the parameter's default applies)."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    except UnicodeDecodeError:
        raise _bad("the file is not UTF-8 text", {"csv": "not UTF-8 text"}) from None
    if "\x00" in text:
        raise _bad("the file holds a NUL character", {"csv": "holds a NUL character"})
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _bad(f"it cannot be read as CSV ({exc})", {"csv": str(exc)}) from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # blank lines at the end are no items
    if not rows:
        raise _bad("the file is empty", {"csv": "empty: expected a header row of parameter names, then one row "
                                                "per item"})
    names = _header(rows[0], spec)
    body = rows[1:]
    if not body:
        raise _bad("there is a header but no items", {"csv": "no rows after the header"})
    if len(body) > MAX_ITEMS:
        raise _bad(f"at most {MAX_ITEMS} rows, not {len(body)}", {"csv": f"at most {MAX_ITEMS} rows after the header"})
    items, fields = [], {}
    for index, row in enumerate(body):
        if not any(cell.strip() for cell in row):
            fields[f"items[{index}]"] = f"row {row_of(index)} is empty"
            continue
        if len(row) != len(names):
            fields[f"items[{index}]"] = f"row {row_of(index)}: {len(row)} cells, but the header has {len(names)}"
            continue
        item = {}
        for name, cell in zip(names, row):
            value = cell.strip()
            if value.startswith(FORMULA_START):
                fields[f"items[{index}].{name}"] = (f"row {row_of(index)}, column {name}: a cell may not start with "
                                                   "= + - or @ (a spreadsheet formula)")
            elif value:
                item[name] = value
        items.append(item)
    if fields:
        raise _bad("; ".join(list(fields.values())[:20]), fields)
    return items


def name_rows(exc: TaskError) -> TaskError:
    """The runner's 400 on the items, with each item's message naming its row and column in the file."""
    fields = {}
    for key, message in exc.fields.items():
        if key.startswith(_ITEM) and "]" in key:
            index, _, column = key[len(_ITEM):].partition("]")
            where = f"row {row_of(int(index))}" + (f", column {column.lstrip('.')}" if column else "")
            message = f"{where}: {message}"
        fields[key] = message
    return _bad("; ".join(list(fields.values())[:20]), fields)
