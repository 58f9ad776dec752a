"""What a column's values cannot hold, by the kind a declaration gives it: `holds={"phone": "phone"}`.

A phone number is digits with `+`, `-`, `(`, `)`, `.`, `/` and spaces, never a letter (accented ones too) or an
`@`; a person's name is letters with spaces, apostrophes and hyphens, never a digit or an `@`. A text holding
such a character is inside no value of the kind, so a search leaves that column's substring step out
(console.product.queries.phases): the step could find nothing, and would still read its index. `product
check` reads the values of every column given a kind and names one that breaks it; `product inspect` gives a
kind only to a column named for it whose values all fit.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import column, select, table
from sqlalchemy.engine import Connection


def _letter_or_at(char: str) -> bool:
    return char.isalpha() or char == "@"


def _digit_or_at(char: str) -> bool:
    return char.isdigit() or char == "@"


REJECTS = {"phone": _letter_or_at, "name": _digit_or_at}
DESCRIBED = {"phone": "a letter or an @", "name": "a digit or an @"}


def foreign(kind: str | None, value: str) -> str | None:
    """The first character of `value` no value of `kind` holds; None when there is none, or no kind."""
    rejects = REJECTS.get(kind)
    if rejects is None:
        return None
    return next((char for char in value if rejects(char)), None)


@dataclass(frozen=True)
class Broken:
    """How many values of a column hold what its kind never holds, and the first such row's key and character."""

    count: int
    key: object
    char: str


def broken(conn: Connection, table_name: str, key: str, name: str, kind: str) -> Broken | None:
    """The values of `table_name`.`name` that break `kind`, read whole and judged by `foreign` (the search's own
    rule); None when every value fits."""
    rows = conn.execute(select(column(key), column(name)).select_from(table(table_name))
                        .where(column(name).is_not(None)), execution_options={"stream_results": True, "yield_per": 2000})
    count, first = 0, None
    for row_key, value in rows:
        char = foreign(kind, str(value))
        if char is not None:
            count += 1
            first = first or (row_key, char)
    return Broken(count, *first) if count else None
