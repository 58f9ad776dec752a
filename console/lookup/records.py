"""A record's whole picture: its row, and each related record's rows, one indexed query per relation.

Statements are the product schema's own, built once with bound parameters (console/product/schema.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from console.direct import send, send_all
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
    # The row's columns by name, read once: a page asks for them some forty times, and each read through
    # SQLAlchemy's row mapping is a Python call or three.
    values: dict = field(init=False, repr=False)
    key: object = field(init=False)

    def __post_init__(self):
        self.values = dict(self.row._mapping)
        self.key = self.values[self.reflected.record.key]

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
    """The record with this key and its related records; None when there is no such row.

    The row and the records that belong to it go by the key alone: they are sent together (one round trip on
    PostgreSQL), then what the row belongs to, by the row's own columns.
    """
    key = parse_key(reflected, raw_key)
    if key is None:
        return None
    relations = [(relation, schema.record(relation.record)) for relation in reflected.record.related]
    children = [(relation, other) for relation, other in relations if not isinstance(relation, BelongsTo)]
    # One more child than the relation shows: whether to link to the rest.
    sent = send_all(conn, [(reflected.statement(("one", "detail")), {"key": key}),
                           *((other.statement(("children", relation.via, relation.limit + 1)), {"parent": key})
                             for relation, other in children)])
    row = sent[0].first()
    if row is None:
        return None
    page = RecordPage(reflected, row)
    found = {id(relation): rows.all() for (relation, _other), rows in zip(children, sent[1:])}
    wanted = [(relation, other, page.values[relation.via]) for relation, other in relations
              if isinstance(relation, BelongsTo) and page.values[relation.via] is not None]
    parents = send_all(conn, [(other.statement(("one", "list")), {"key": value}) for _relation, other, value in wanted])
    found.update({id(relation): rows.all() for (relation, _other, _value), rows in zip(wanted, parents)})
    for relation, other in relations:
        rows = found.get(id(relation), [])
        if isinstance(relation, BelongsTo):
            page.related.append(Related(relation.label, other, relation.via, False, rows))
        else:
            page.related.append(Related(relation.label, other, relation.via, True, rows[:relation.limit],
                                        more=len(rows) > relation.limit))
    return page


def fill_value(record_page: RecordPage, param: str):
    """The value a task's record_param takes from this record: its column of that name, else its key."""
    values = record_page.values
    return values[param] if param in values else record_page.key


# The titles' IN list has a fixed number of parameters, a power of two, the last key repeated to fill it:
# an expanding parameter renders its list into the SQL again on each execution (about six Python calls a
# key, a sixth of an orders list's calls); a fixed list is compiled once per size.
_KEY_NAMES: dict[int, tuple[str, ...]] = {}


def _key_names(count: int) -> tuple[str, ...]:
    size = 1 << (count - 1).bit_length()
    names = _KEY_NAMES.get(size)
    if names is None:
        names = _KEY_NAMES.setdefault(size, tuple(f"key{n}" for n in range(size)))
    return names


def _titles_statement(other: ReflectedRecord, names: tuple[str, ...]):
    def build():
        columns = dict.fromkeys((other.record.key, *other.record.title_columns,
                                 *(m.currency_column for m in other.record.money.values() if m.currency_column)))
        keys = [bindparam(name, type_=other.key.type) for name in names]
        return select(*(other.table.c[n] for n in columns)).where(other.key.in_(keys))
    return prebuilt(("records", token(other), "titles", len(names)), build)


def _titles(conn: Connection, other: ReflectedRecord, keys: list) -> list:
    if not keys:
        return []
    names = _key_names(len(keys))
    padded = keys + keys[-1:] * (len(names) - len(keys))
    return send(conn, _titles_statement(other, names), dict(zip(names, padded))).all()


def parents(conn: Connection, schema: ProductSchema, reflected: ReflectedRecord, rows,
            hidden: str | None = None, known: dict | None = None) -> dict[str, tuple]:
    """For each BelongsTo whose column the list shows (but `hidden`): (other record, {key: row}, the rows'
    columns when they all have the same, else None) for these rows.

    One small query per relation, not a join carried through the sort; none when `known` (record name ->
    {key: row}, the rows a record page already read) holds them all.
    """
    found = {}
    if not rows:
        return found
    fields = rows[0]._fields  # rows are read by position: a read through a row's mapping is a Python call
    for relation in reflected.record.related:
        if not isinstance(relation, BelongsTo) or relation.via not in reflected.shown_names or relation.via == hidden:
            continue
        at = fields.index(relation.via)
        wanted = {row[at] for row in rows}
        wanted.discard(None)
        other = schema.record(relation.record)
        have = (known or {}).get(relation.record, {})
        if have.keys() >= wanted:
            shapes = {row._fields for row in have.values()}  # a page's own rows come from two statements
            found[relation.via] = (other, have, next(iter(shapes)) if len(shapes) == 1 else None)
            continue
        titled = _titles(conn, other, sorted(wanted))
        # The titles' first column is the other record's key (_titles_statement).
        found[relation.via] = (other, {row[0]: row for row in titled}, titled[0]._fields if titled else None)
    return found
