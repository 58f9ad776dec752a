"""The declared tables as the target database has them: reflected on first use, once per app.

Never at import or in create_app: a connection opened there would cross gunicorn's fork. Each
record's statements are built once, with bound parameters, and reused by every request.
"""
from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import MetaData, Table, bindparam, select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError

from console.product.declare import HasMany, Record
from console.product.loading import Product

PAGE_SIZE = 25
LIKE_ESCAPE = "/"


class ProductSchemaError(Exception):
    """A declaration names a table or column the target database does not have (`product check` names them all)."""


def python_type(column):
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


class ReflectedRecord:
    """A record over its reflected table, with its statements built once."""

    def __init__(self, record: Record, table: Table):
        self.record = record
        self.table = table
        for field, names in record.referenced().items():
            for name in names:
                if name not in table.c:
                    raise ProductSchemaError(f"record {record.name!r}, field {field!r}: table {table.name!r} "
                                             f"has no column {name!r}")
        for name in record.prefix:
            if python_type(table.c[name]) is not str:
                raise ProductSchemaError(f"record {record.name!r}, field 'prefix': column {name!r} is not text")
        self.key = table.c[record.key]
        currencies = [m.currency_column for m in record.money.values() if m.currency_column]
        listed = record.columns or tuple(table.c.keys())
        self.list_names = tuple(dict.fromkeys((record.key, *listed, *record.title_columns, *currencies)))
        self.shown_names = tuple(dict.fromkeys((record.key, *listed)))
        self.detail_names = tuple(table.c.keys())
        self._statements: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def statement(self, shape: tuple):
        """The SELECT for a shape: ("all"|"exact"|"prefix", column, after?), ("one", columns), ("children", via, limit)."""
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
        _kind, column_name, after = shape
        statement = select(*listed)
        if kind == "all":
            order = [self.key]
        elif kind == "exact":
            statement = statement.where(self.table.c[column_name] == bindparam("q"))
            order = [self.key]
        else:
            column = self.table.c[column_name]
            statement = statement.where(column.like(bindparam("pattern"), escape=LIKE_ESCAPE))
            if column_name in self.record.exact:  # those rows came first, as exact matches
                statement = statement.where(column != bindparam("q"))
            order = [column, self.key]
        if after:
            bounds = [bindparam(f"after_{n}", type_=column.type) for n, column in enumerate(order)]
            statement = statement.where(order[0] > bounds[0] if len(order) == 1 else tuple_(*order) > tuple_(*bounds))
        return statement.order_by(*order).limit(PAGE_SIZE + 1)


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
            for record in self.product.records.values():
                table = metadata.tables.get(record.table)
                if table is None:
                    try:
                        table = Table(record.table, metadata, autoload_with=conn)
                    except NoSuchTableError:
                        raise ProductSchemaError(f"record {record.name!r}, field 'table': the target database "
                                                 f"has no table {record.table!r}") from None
                records[record.name] = ReflectedRecord(record, table)
        for reflected in records.values():
            for relation in reflected.record.related:
                if isinstance(relation, HasMany) and relation.via not in records[relation.record].table.c:
                    raise ProductSchemaError(f"record {reflected.record.name!r}, field 'related': "
                                             f"{relation.record!r} has no column {relation.via!r}")
        return records


def product_schema(app=None) -> ProductSchema:
    """The product records of the given (or current) app."""
    return (app or current_app).extensions["product_schema"]
