"""A record's whole picture: its row, and each related record's rows, one indexed query per relation.

Statements are the product schema's own, built once with bound parameters (console/product/schema.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from console.lookup.listing import token
from console.lookup.paging import prebuilt
from console.product.declare import BelongsTo
from console.product.queries import coerce
from console.product.schema import ProductSchema, ReflectedRecord


@dataclass
class Related:
    """One relation as the page shows it: the other record, its rows, and whether there are more."""

    label: str
    other: ReflectedRecord
    via: str
    many: bool
    rows: list
    more: bool = False


@dataclass
class RecordPage:
    reflected: ReflectedRecord
    row: object
    related: list[Related] = field(default_factory=list)

    @property
    def key(self):
        return self.row._mapping[self.reflected.record.key]

    def known(self) -> dict[str, dict]:
        """The rows this page holds, by record and key: the record itself and what it belongs to."""
        found = {self.reflected.record.name: {self.key: self.row}}
        for relation in self.related:
            if not relation.many and relation.rows:
                row = relation.rows[0]
                found.setdefault(relation.other.record.name, {})[row._mapping[relation.other.record.key]] = row
        return found

    def parent(self, via: str):
        """The row a BelongsTo through `via` found (None when there is none), for the field's link."""
        for relation in self.related:
            if not relation.many and relation.via == via:
                return relation.rows[0] if relation.rows else None
        return None


def parse_key(reflected: ReflectedRecord, raw: str):
    """The key as the column's type; None when no row could have it (a 404, never a database error)."""
    return coerce(reflected.key, raw)


def load(conn: Connection, schema: ProductSchema, reflected: ReflectedRecord, raw_key: str) -> RecordPage | None:
    """The record with this key and its related records; None when there is no such row."""
    key = parse_key(reflected, raw_key)
    if key is None:
        return None
    row = conn.execute(reflected.statement(("one", "detail")), {"key": key}).first()
    if row is None:
        return None
    page = RecordPage(reflected, row)
    for relation in reflected.record.related:
        other = schema.record(relation.record)
        if isinstance(relation, BelongsTo):
            value = row._mapping[relation.via]
            rows = [] if value is None else conn.execute(other.statement(("one", "list")), {"key": value}).all()
            page.related.append(Related(relation.label, other, relation.via, False, rows))
        else:
            # One more than the relation shows: whether to link to the rest.
            rows = conn.execute(other.statement(("children", relation.via, relation.limit + 1)),
                                {"parent": key}).all()
            page.related.append(Related(relation.label, other, relation.via, True, rows[:relation.limit],
                                        more=len(rows) > relation.limit))
    return page


def fill_value(record_page: RecordPage, param: str):
    """The value a task's record_param takes from this record: its column of that name, else its key."""
    mapping = record_page.row._mapping
    return mapping[param] if param in mapping else record_page.key


def _titles_statement(other: ReflectedRecord):
    names = tuple(dict.fromkeys((other.record.key, *other.record.title_columns,
                                 *(m.currency_column for m in other.record.money.values() if m.currency_column))))
    return prebuilt(("records", token(other), "titles"), lambda: select(*(other.table.c[n] for n in names)).where(
        other.key.in_(bindparam("keys", expanding=True))))


def parents(conn: Connection, schema: ProductSchema, reflected: ReflectedRecord, rows,
            hidden: str | None = None, known: dict | None = None) -> dict[str, tuple]:
    """For each BelongsTo whose column the list shows (but `hidden`): (other record, {key: row}) for these rows.

    One small query per relation, not a join carried through the sort; none when `known` (record name ->
    {key: row}, the rows a record page already read) holds them all.
    """
    found = {}
    for relation in reflected.record.related:
        if not isinstance(relation, BelongsTo) or relation.via not in reflected.shown_names or relation.via == hidden:
            continue
        keys = sorted({row._mapping[relation.via] for row in rows} - {None})
        other = schema.record(relation.record)
        have = (known or {}).get(relation.record, {})
        if all(key in have for key in keys):
            found[relation.via] = (other, have)
            continue
        titled = conn.execute(_titles_statement(other), {"keys": keys}).all() if keys else []
        found[relation.via] = (other, {row._mapping[other.record.key]: row for row in titled})
    return found
