"""Reading records: lists by key, searches (exact keys first, then prefixes, then substrings), one record whole.

Every list is keyset-paged (the cursor is the last row's sort key: no OFFSET) and counts
nothing. Personal values are masked unless the caller revealed them; money reads in its units.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.jsontext import jsonable
from console.product.declare import BelongsTo
from console.product.kinds import foreign
from console.product.money import format_money, money_json
from console.product.schema import PAGE_SIZE, ProductSchema, ReflectedRecord, python_type
from console.product.search_index import like_escaped, searchable
from console.product.search_index import params as search_params

MAX_QUERY = 254
BIGINT = 2**63 - 1


MAX_CURSOR = 500
CURSOR = re.compile(r"[A-Za-z0-9_-]*")  # base64url, unpadded


class QueryInputError(ValueError):
    """A parameter of the request is not valid (400), or valid but not for this record (422); `field` names it."""

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def coerce(column, raw: str):
    """The text as a value of the column's type, or None when no row could hold it."""
    kind = python_type(column)
    if kind is int:
        digits = raw[1:] if raw[:1] == "-" else raw
        if digits.isascii() and digits.isdigit() and int(raw) <= BIGINT and int(raw) >= -BIGINT:
            return int(raw)
        return None
    return raw if kind is str else None


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching values that start with `prefix`, wildcards escaped."""
    return like_escaped(prefix) + "%"


def _shown(reflected: ReflectedRecord, name: str, row, revealed: bool):
    """A field as the API shows it: personal values masked, money as {cents, currency, text}."""
    value = row[name]
    record = reflected.record
    if value is None:
        return None
    if name in record.personal and not revealed:
        return record.personal[name](str(value))
    if name in record.money:
        return money_json(value, record.money[name].currency_of(row))
    return jsonable(value)


def _title(reflected: ReflectedRecord, row, revealed: bool) -> str:
    record = reflected.record
    values = {}
    for name in record.title_columns:
        value = _shown(reflected, name, row, revealed)
        if isinstance(value, dict):
            value = format_money(row[name], record.money[name].currency_of(row))
        values[name] = "" if value is None else str(value)
    return values[record.title] if "{" not in record.title else record.title.format(**values)


def item(reflected: ReflectedRecord, row, revealed: bool, names: tuple[str, ...] | None = None) -> dict:
    """A row as {"key", "title", "fields"}: the list columns, or `names`."""
    return {"key": jsonable(row[reflected.record.key]), "title": _title(reflected, row, revealed),
            "fields": {name: _shown(reflected, name, row, revealed) for name in names or reflected.shown_names}}


@dataclass(frozen=True)
class Phase:
    """One step of a search: the rows whose `column` equals the text, starts with it, or holds it; "all" lists by key.

    `params` are the statement's, named after the step's place in the search (a step leaves out the rows
    the steps before it found, so it binds their parameters too).
    """

    kind: str
    column: str | None
    params: dict

    def order(self, reflected: ReflectedRecord) -> list:
        key = reflected.record.key
        return [self.column, key] if self.kind == "prefix" else [key]


# The kinds of step that match part of a value: a part, typed a keystroke at a time, spells out the rest.
PARTIAL = ("prefix", "substring")


@dataclass(frozen=True)
class SearchKeys:
    """The columns a search matches, by kind of step, in declaration order; `withheld`, the partial keys
    it leaves out (personal columns, for a role that may not match part of one)."""

    exact: tuple[str, ...]
    prefix: tuple[str, ...]
    substring: tuple[str, ...]
    withheld: tuple[str, ...]


@lru_cache(maxsize=256)  # a record's declaration does not change: every search asks, so work it out once
def search_keys(record, *, personal_partial: bool = True) -> SearchKeys:
    """What a search matches: without `personal_partial`, no prefix or substring over a personal column (see
    console.product.searches). The steps a search runs and the words the search box shows both follow it."""
    def allowed(names) -> tuple[str, ...]:
        return tuple(name for name in names if personal_partial or name not in record.personal)

    prefix, substring = allowed(record.prefix), allowed(record.substring)
    withheld = tuple(name for name in dict.fromkeys((*record.prefix, *record.substring))
                     if name not in prefix and name not in substring)
    return SearchKeys(tuple(record.exact), prefix, substring, withheld)


def phases(reflected: ReflectedRecord, q: str | None, *, personal_partial: bool = True) -> list[Phase]:
    """The steps of a search for `q`: exact keys, then prefixes, then substrings, in declaration order.

    Without `personal_partial`, no step matches part of a personal column (see console.product.searches).
    A substring step needs three letters or digits in a row (search_index.searchable), and is left out when
    the text holds a character no value of the column's declared kind holds (`holds`; console.product.kinds:
    letters in a phone number, digits in a name): it could find nothing, and would still read its index.
    """
    if q is None:
        return [Phase("all", None, {})]
    record = reflected.record
    keys = search_keys(record, personal_partial=personal_partial)
    wanted = [("exact", name) for name in keys.exact] + [("prefix", name) for name in keys.prefix]
    if searchable(q):
        wanted += [("substring", name) for name in keys.substring if foreign(record.holds.get(name), q) is None]
    found = []
    for kind, name in wanted:
        tag = f"p{len(found)}"
        if kind == "exact":
            value = coerce(reflected.table.c[name], q)
            if name in reflected.folded:
                value = value.lower()  # compared with the column folded (ReflectedRecord.folded)
            if value is not None:
                found.append(Phase(kind, name, {f"{tag}_q": value}))
        elif kind == "prefix":
            found.append(Phase(kind, name, {f"{tag}_pattern": like_prefix(q)}))
        else:
            found.append(Phase(kind, name, search_params(q, reflected.dialect, tag, reflected.samples.get(name))))
    return found


def _encode(phase: int, values: list) -> str:
    text = json.dumps([phase, [jsonable(value) for value in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, reflected: ReflectedRecord, steps: list[Phase]) -> tuple[int, tuple]:
    if len(cursor) > MAX_CURSOR or not CURSOR.fullmatch(cursor):
        raise QueryInputError("after", f"after: at most {MAX_CURSOR} characters of A-Z, a-z, 0-9, - and _")
    bad = QueryInputError("after", "after: not a cursor from this list's `next` (ask again without it)")
    try:
        phase, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise bad from None
    if not isinstance(phase, int) or not 0 <= phase < len(steps) or not isinstance(values, list):
        raise bad
    order = steps[phase].order(reflected)
    if len(values) != len(order):
        raise bad
    typed = []
    for name, value in zip(order, values):
        kind = python_type(reflected.table.c[name])
        if kind in (int, str) and (type(value) is not kind or (kind is int and abs(value) > BIGINT)):
            raise bad
        typed.append(value)
    return phase, tuple(typed)


def check_query(q: str) -> None:
    """QueryInputError naming q for text no search may send: too long, or holding a NUL (PostgreSQL refuses
    it in text, SQLite's FTS5 in a phrase, so it would reach the database only to fail there)."""
    if len(q) > MAX_QUERY:
        raise QueryInputError("q", f"q: at most {MAX_QUERY} characters")
    if "\x00" in q:
        raise QueryInputError("q", "q: a NUL character (\\0) cannot be searched for")


@dataclass(frozen=True)
class Found:
    """A page of a search before it is shown: each row with the number of the step that found it."""

    steps: list[Phase]
    rows: list[tuple[int, object]]
    next: str | None


def find_page(session: Session | Connection, reflected: ReflectedRecord, *, q: str | None = None,
              after: str | None = None, personal_partial: bool = True) -> Found:
    """The rows of one page, each step's rows after the steps before it, none twice; nothing formatted."""
    record = reflected.record
    q = (q or "").strip() or None  # an empty search is no search, as an empty filter is no filter elsewhere
    if q is not None:
        if not record.searchable:
            raise QueryInputError("q", f"q: {record.name} declares no search keys; list it without q", 422)
        check_query(q)
    steps = phases(reflected, q, personal_partial=personal_partial)
    if q is not None and not steps and record.substring and not searchable(q):
        raise QueryInputError("q", "q: to search inside values, give at least three letters or digits in a row")
    for step in steps:
        reflected.require_index(session, step.kind, step.column)
    start, bounds = _decode(after, reflected, steps) if after else (0, None)
    signature = tuple((step.kind, step.column) for step in steps)
    found: list[tuple[int, object]] = []
    seen = set()
    params: dict = {}
    crowded = None
    for number, step in enumerate(steps):
        params.update(step.params)  # each step leaves out what the steps before it found: it binds theirs
        if number < start:
            continue
        if crowded is None and reflected.unordered_probe(signature, number) is not None:
            crowded = reflected.crowded(session, signature, {k: v for s in steps for k, v in s.params.items()})
        bounded = number == start and bounds is not None
        values = dict(params, **{f"after_{n}": value for n, value in enumerate(bounds)}) if bounded else params
        for statement in reflected.steps_statements(signature, number, bounded, crowded or frozenset()):
            rows = session.execute(statement, values).mappings().all()
            if len(rows) > PAGE_SIZE:
                break
        for row in rows:
            if row[record.key] not in seen:
                seen.add(row[record.key])
                found.append((number, row))
        if len(found) > PAGE_SIZE:
            break
    page, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    following = None
    if more:
        number, last = page[-1]
        following = _encode(number, [last[name] for name in steps[number].order(reflected)])
    return Found(steps, page, following)


def list_page(session: Session | Connection, reflected: ReflectedRecord, *, q: str | None = None,
              after: str | None = None, revealed: bool = False, personal_partial: bool = True) -> dict:
    """One page of the record: {"items": [...], "next": cursor or None}.

    Callers acting for a user go through console.product.searches.search_page, which decides
    `personal_partial` and audits searches of personal data.
    """
    found = find_page(session, reflected, q=q, after=after, personal_partial=personal_partial)
    return {"items": [item(reflected, row, revealed) for _number, row in found.rows], "next": found.next}


def record_detail(session: Session | Connection, schema: ProductSchema, reflected: ReflectedRecord, raw_key: str,
                  *, revealed: bool = False) -> dict | None:
    """The record whole, with its related records; None when no row has this key."""
    key = coerce(reflected.key, raw_key)
    if key is None:
        return None
    row = session.execute(reflected.statement(("one", "detail")), {"key": key}).mappings().first()
    if row is None:
        return None
    shown = item(reflected, row, revealed, reflected.detail_names)
    related = {}
    for relation in reflected.record.related:
        other = schema.record(relation.record)
        if isinstance(relation, BelongsTo):
            value = row[relation.via]
            rows = [] if value is None else session.execute(other.statement(("one", "list")), {"key": value}).mappings()
        else:
            rows = session.execute(other.statement(("children", relation.via, relation.limit)),
                                   {"parent": row[reflected.record.key]}).mappings()
        related[relation.label] = [item(other, related_row, revealed) for related_row in rows]
    return dict(shown, related=related)
