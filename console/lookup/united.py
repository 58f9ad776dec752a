"""A search's page in one statement on PostgreSQL: the steps' pages as the branches of one UNION ALL.

Each step of a search (exact keys, prefixes, substrings) is a keyset page of its own, and walking them one
statement at a time costs a round trip per step: five for a customer's email, each waiting on a shared
machine for a CPU on both ends. Here every step the walk may reach is one branch, in the walk's order, each
ordered and limited to a page + 1 as on its own, tagged with its step's number; the whole is limited to a
page + 1. PostgreSQL's Append returns its branches in turn and stops as soon as the LIMIT is met, so a
step after a full page is never run, as in the walk. A Parallel Append would run them side by side and
interleave their rows, so the statement names a function PostgreSQL marks parallel-unsafe
(current_schema(), which reads nothing), and no part of it is planned in parallel.
"""
from __future__ import annotations

from sqlalchemy import func, literal_column, union_all
from sqlalchemy.engine import Connection

from console.direct import send
from console.lookup.paging import cursor_values, dialect_name, page_statement, prebuilt

# Where the round trips are dearest: SQLite runs in-process, and MariaDB's substring steps choose between
# two statements by what an earlier one found (ReflectedRecord.crowded), so they keep the walk.
DIALECTS = ("postgresql",)
# The branch's step number, after the record's columns; no record's column is named so.
STEP = "sc_step"


def _statement(key: tuple, steps: list, start: int, direction: str, after: bool, size: int, dialect: str):
    forwards = direction in ("first", "after")
    numbers = range(start, len(steps)) if forwards else range(start, -1, -1)

    def build():
        branches = []
        for number in numbers:
            step = steps[number]
            # Only the first branch continues from the cursor; the next steps start from their own ends.
            read = direction if number == start else ("first" if forwards else "last")
            branch = page_statement(step.statement, step.sort, direction=read, after=after and number == start,
                                    size=size, dialect=dialect)
            branch = branch.add_columns(literal_column(str(number)).label(STEP))
            if number == start:
                branch = branch.where(func.current_schema().is_not(None))
            branches.append(branch)
        return union_all(*branches).limit(size + 1) if len(branches) > 1 else branches[0]

    return prebuilt((*key, "united", start, direction, after, size), build)


def walk(conn: Connection, key: tuple, steps: list, start: int, direction: str, cursor: str | None,
         size: int) -> list:
    """The walk of console.lookup.listing in one statement: [(step number, row)] in the walk's order (backwards
    when `direction` is "before" or "last"), up to `size` + 1 of them. `key` names the steps' shape."""
    values = cursor_values(steps[start].sort, direction, cursor)
    statement = _statement(key, steps, start, direction, bool(values), size, dialect_name(conn))
    params = {**steps[-1].params, **values}  # each step binds its own values and those of the steps before it
    return [(row[-1], row) for row in send(conn, statement, params).all()]
