"""The declared tables as the target database has them: reflected on first use, once per app.

Never at import or in create_app: a connection opened there would cross gunicorn's fork. Each
record's statements are built once, with bound parameters, and reused by every request.
"""
from __future__ import annotations

import re
import threading

from flask.globals import _cv_app
from sqlalchemy import INTEGER, MetaData, Table, bindparam, inspect, not_, or_, select, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.orm import Session

from console.folding import folded
from console.product import search_index
from console.product.check import leading_columns
from console.product.declare import HasMany, Record
from console.product.loading import Product
from console.product.search_index import LIKE_ESCAPE, SubstringIndex

PAGE_SIZE = 25
PROBE_ROWS = 2000  # rows a MariaDB substring step reads in key order before it asks its side table


class ProductSchemaError(Exception):
    """A declaration names a table or column the target database does not have (`product check` names them all)."""


def python_type(column):
    return python_type_of(column.type)


def python_type_of(sql_type):
    """The Python type of a column type, or None: SQLAlchemy raises NotImplementedError for types without one."""
    try:
        return sql_type.python_type
    except NotImplementedError:
        return None


LOWER = re.compile(r'lower\(\(?"?(\w+)"?\)?(::\w+( \w+)*)?\)', re.IGNORECASE)


def case_folding_indexes(conn: Connection, inspector, table: str) -> set[str]:
    """Columns an index leads with that compares them without regard to case (what `folded` compiles to):
    lower(column) on PostgreSQL, column COLLATE NOCASE on SQLite. MySQL and MariaDB need none: their
    default collations already ignore case, so an exact key's own index serves it (folded is the bare column)."""
    found = set()
    if conn.dialect.name == "postgresql":
        for index in inspector.get_indexes(table):
            expressions = index.get("expressions") or []
            match = LOWER.fullmatch(expressions[0].strip()) if expressions else None
            if match:
                found.add(match.group(1))
    elif conn.dialect.name == "sqlite":
        for index in inspector.get_indexes(table):
            quoted = index["name"].replace('"', '""')
            leading = conn.exec_driver_sql(f'PRAGMA index_xinfo("{quoted}")').first()
            if leading is not None and leading[2] and str(leading[4]).upper() == "NOCASE":
                found.add(leading[2])
    return found


class ReflectedRecord:
    """A record over its reflected table, with its statements built once."""

    def __init__(self, record: Record, table: Table, dialect: str = "", indexed: set[str] | None = None,
                 folding: set[str] | None = None, samples: dict | None = None):
        self.record = record
        self.table = table
        self.dialect = dialect
        # Columns an index leads with (None: not known, nothing refused) and substring indexes seen to exist.
        self.indexed = indexed
        self.substring_indexes = {name: SubstringIndex(record.name, table.name, record.key, name)
                                  for name in record.substring}
        self._indexed_substrings: set[str] = set()
        # PostgreSQL: the substring columns' values as ANALYZE sampled them (search_index.narrowed).
        self.samples: dict[str, search_index.Sample] = samples or {}
        for field, names in record.referenced().items():
            for name in names:
                if name not in table.c:
                    raise ProductSchemaError(f"record {record.name!r}, field {field!r}: table {table.name!r} "
                                             f"has no column {name!r}")
        for field in ("prefix", "substring"):
            for name in getattr(record, field):
                if python_type(table.c[name]) is not str:
                    raise ProductSchemaError(f"record {record.name!r}, field {field!r}: column {name!r} is not text")
        self.key = table.c[record.key]
        # Exact text keys an index serves without regard to case (case_folding_indexes): compared folded,
        # so "Alice@Example.com" finds the row stored as "alice@example.com", and the other way round.
        self.folded = frozenset(name for name in record.exact if name in (folding or ())
                                and python_type(table.c[name]) is str)
        # SQLite's FTS5 walks its rows in rowid order, and can stop after a page when that is the key's order.
        self._key_is_primary = list(table.primary_key.columns) == [self.key]
        self.rowid_key = dialect == "sqlite" and self._key_is_primary and type(self.key.type) is INTEGER
        currencies = [m.currency_column for m in record.money.values() if m.currency_column]
        listed = record.columns or tuple(table.c.keys())
        self.list_names = tuple(dict.fromkeys((record.key, *listed, *record.title_columns, *currencies)))
        self.shown_names = tuple(dict.fromkeys((record.key, *listed)))
        self.detail_names = tuple(table.c.keys())
        self._statements: dict[tuple, object] = {}
        self._lock = threading.RLock()  # a step's statement is built from its unordered parts, under the same lock

    def require_index(self, session: Session | Connection, kind: str, column: str | None) -> None:
        """Refuse a search step no index answers (ProductSchemaError): it would read the whole table."""
        if kind == "substring":
            if column not in self._indexed_substrings:
                if not search_index.exists(session if isinstance(session, Connection) else session.connection(),
                                           self.substring_indexes[column]):
                    raise ProductSchemaError(f"record {self.record.name!r}, field 'substring': column {column!r} "
                                             "has no substring index (`support-console product index` makes it)")
                self._indexed_substrings.add(column)
        elif kind in ("exact", "prefix") and self.indexed is not None and column not in self.indexed:
            raise ProductSchemaError(f"record {self.record.name!r}, field {kind!r}: no index on "
                                     f"{self.table.name!r} leads with {column!r}")

    def statement(self, shape: tuple):
        """The SELECT for a shape: ("phase"|"probe", steps, number, after?), ("one", columns), ("children", via, limit).

        A search's steps are ((kind, column), ...) with kinds "all", "exact", "prefix" and "substring".
        """
        found = self._statements.get(shape)
        if found is None:
            with self._lock:
                found = self._statements.setdefault(shape, self._build(shape))
        return found

    def _build(self, shape: tuple):
        kind = shape[0]
        listed = [self.table.c[name] for name in self.list_names]
        if kind == "one":
            names = self.detail_names if shape[1] == "detail" else self.list_names
            return select(*(self.table.c[name] for name in names)).where(self.key == bindparam("key"))
        if kind == "children":
            via = self.table.c[shape[1]]
            return (select(*listed).where(via == bindparam("parent"))
                    .order_by(self.key.desc()).limit(shape[2]))
        return self._probe(*shape[1:]) if kind == "probe" else self._phase(*shape[1:])

    @staticmethod
    def _paged(statement, order: list, after: bool):
        if after:
            bounds = [bindparam(f"after_{n}", type_=column.type) for n, column in enumerate(order)]
            statement = statement.where(order[0] > bounds[0] if len(order) == 1 else tuple_(*order) > tuple_(*bounds))
        return statement.order_by(*order).limit(PAGE_SIZE + 1)

    def _matches(self, kind: str, column_name: str, tag: str):
        """The condition "step `tag` finds this row" (its parameters are named after the tag)."""
        column = self.table.c[column_name]
        if kind == "exact":
            return (folded(column) if column_name in self.folded else column) == bindparam(f"{tag}_q")
        if kind == "prefix":
            return column.like(bindparam(f"{tag}_pattern"), escape=LIKE_ESCAPE)
        return search_index.contains(self.table, self.substring_indexes[column_name], self.dialect, tag)

    def _excluding(self, steps: tuple, number: int, statement):
        """The statement less the rows the steps before step `number` found."""
        for earlier, (earlier_kind, earlier_column) in enumerate(steps[:number]):
            column = self.table.c[earlier_column]
            if earlier_kind == "substring" and self.dialect in ("mysql", "mariadb"):
                # What the side table narrows, LIKE decides: the LIKE alone says which rows that step found.
                found_before = column.like(bindparam(f"p{earlier}_pattern"), escape=LIKE_ESCAPE)
            else:
                found_before = self._matches(earlier_kind, earlier_column, f"p{earlier}")
            # NOT of a comparison with NULL is NULL: a row with no value there was not found by that step.
            statement = statement.where(not_(found_before) if column.primary_key
                                        else or_(column.is_(None), not_(found_before)))
        return statement

    def steps_statements(self, steps: tuple, number: int, after: bool, crowded: frozenset = frozenset()) -> list:
        """The statements that answer step `number`, to try in turn until one fills the page.

        On MariaDB, the side table hands over every candidate before the sort by key: a second for a
        fragment most rows hold. So when more than PROBE_ROWS rows hold it (`crowded`, from crowded()), a
        substring step first reads at most PROBE_ROWS rows in key order (bounded by ROWS EXAMINED, never the
        whole table); only when they hold less than a page does the side table answer.
        """
        full = self.statement(("phase", steps, number, after))
        if number not in crowded or self.unordered_probe(steps, number) is None:
            return [full]
        return [self.statement(("probe", steps, number, after)), full]

    def crowded(self, session: Session | Connection, steps: tuple, params: dict) -> frozenset:
        """The numbers of the substring steps (MariaDB) whose text starts more than PROBE_ROWS suffixes, in one
        statement for them all: those read PROBE_ROWS rows in key order first. The others sort their few
        candidates at once; reading PROBE_ROWS rows first would be in vain for a rare text."""
        numbers = tuple(n for n in range(len(steps)) if self.unordered_probe(steps, n) is not None)
        if not numbers:
            return frozenset()
        shape = ("crowded", steps)
        statement = self._statements.get(shape)
        if statement is None:
            statement = select(*(search_index.candidates(self.substring_indexes[steps[n][1]], f"p{n}", PROBE_ROWS)
                                 for n in numbers))
            with self._lock:
                statement = self._statements.setdefault(shape, statement)
        counts = session.execute(statement, params).one()
        return frozenset(n for n, count in zip(numbers, counts) if count > PROBE_ROWS)

    def _probe(self, steps: tuple, number: int, after: bool):
        return self._paged(self.unordered_probe(steps, number), [self.key], after)

    def unordered_probe(self, steps: tuple, number: int):
        """Step `number`'s bounded read in key order (see steps_statements), not yet ordered or limited; None
        where the step needs none (not a substring step on MariaDB over a primary key)."""
        kind, column_name = steps[number]
        if kind != "substring" or self.dialect not in ("mysql", "mariadb") or not self._key_is_primary:
            return None
        shape = ("unordered probe", steps, number)
        found = self._statements.get(shape)
        if found is None:
            column = self.table.c[column_name]
            statement = select(*(self.table.c[name] for name in self.list_names)).where(
                column.like(bindparam(f"p{number}_pattern"), escape=LIKE_ESCAPE))
            statement = (self._excluding(steps, number, statement)
                         .with_hint(self.table, "FORCE INDEX (PRIMARY)", dialect_name="*")
                         .suffix_with(f"ROWS EXAMINED {PROBE_ROWS}"))
            with self._lock:
                found = self._statements.setdefault(shape, statement)
        return found

    def _phase(self, steps: tuple, number: int, after: bool):
        """Step `number` of a search: its rows, less those the steps before it found, keyset-paged."""
        statement, order = self.unordered(steps, number)
        return self._paged(statement, list(order), after)

    def unordered(self, steps: tuple, number: int) -> tuple:
        """(SELECT, order) of step `number`: its rows less those the steps before it found, not yet ordered or
        limited, and the columns its index yields them in (the API pages forwards, the record pages both ways)."""
        shape = ("unordered", steps, number)
        found = self._statements.get(shape)
        if found is None:
            with self._lock:
                found = self._statements.setdefault(shape, self._unordered(steps, number))
        return found

    def _unordered(self, steps: tuple, number: int) -> tuple:
        kind, column_name = steps[number]
        tag = f"p{number}"
        listed = [self.table.c[name] for name in self.list_names]
        statement = select(*listed)
        if kind == "substring" and self.rowid_key:
            source, condition, order = search_index.rowid_ordered(self.table, self.substring_indexes[column_name], tag)
            statement = statement.select_from(source).where(condition)
            order = (order,)
        elif kind == "all":
            order = (self.key,)
        else:
            statement = statement.where(self._matches(kind, column_name, tag))
            order = (self.table.c[column_name], self.key) if kind == "prefix" else (self.key,)
        return self._excluding(steps, number, statement), order


class ProductSchema:
    """The app's product records over the target database; reflected on first use and kept."""

    def __init__(self, product: Product, engine: Engine):
        self.product = product
        self.engine = engine
        self._records: dict[str, ReflectedRecord] | None = None
        self._lock = threading.Lock()

    def record(self, name: str) -> ReflectedRecord | None:
        """The reflected record of this name, or None when the package declares none."""
        if name not in self.product.records:
            return None
        return self.reflected()[name]

    def reflected(self) -> dict[str, ReflectedRecord]:
        if self._records is None:
            with self._lock:
                if self._records is None:
                    self._records = self._reflect()
        return self._records

    def _reflect(self) -> dict[str, ReflectedRecord]:
        metadata = MetaData()
        records = {}
        with self.engine.connect() as conn:
            inspector = inspect(conn)
            for record in self.product.records.values():
                table = metadata.tables.get(record.table)
                if table is None:
                    try:
                        table = Table(record.table, metadata, autoload_with=conn)
                    except NoSuchTableError:
                        raise ProductSchemaError(f"record {record.name!r}, field 'table': the target database "
                                                 f"has no table {record.table!r}") from None
                records[record.name] = ReflectedRecord(record, table, self.engine.dialect.name,
                                                       leading_columns(inspector, record.table),
                                                       case_folding_indexes(conn, inspector, record.table),
                                                       search_index.column_samples(conn, record.table,
                                                                                   record.substring))
        for reflected in records.values():
            for relation in reflected.record.related:
                if isinstance(relation, HasMany) and relation.via not in records[relation.record].table.c:
                    raise ProductSchemaError(f"record {reflected.record.name!r}, field 'related': "
                                             f"{relation.record!r} has no column {relation.via!r}")
        return records


def product_schema(app=None) -> ProductSchema:
    """The product records of the given (or current) app."""
    return (app or _cv_app.get().app).extensions["product_schema"]  # not current_app: a proxy hop is three calls
