"""Load the demo shop into the target database: the named records, then N generated customers.

Deterministic: the same seed gives the same rows (generated data is dated from a fixed epoch;
only order 1003 is dated from the clock, see shop_named). Idempotent: the named records are
reset to their documented state, and generated customers that already exist are skipped, so a
larger N adds only the missing ones. Fast: rows go in per chunk of customers, each chunk in one
transaction (so the database always holds a whole prefix of customers with all their rows),
through COPY on PostgreSQL and prepared executemany on SQLite.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from admin_tasks.shop_schema import ShopBase
from console.db import utcnow
from console.demo.shop_generated import COLUMNS, FIRST_CUSTOMER_ID, FIRST_ROW_ID, TABLES, ShopGenerator
from console.demo.shop_named import NamedRecordConflict, restore_named_records

__all__ = ["load_shop", "NamedRecordConflict"]

CHUNK_CUSTOMERS = 5000
# A bigger page cache keeps the hot index pages of a multi-million-row load in memory.
SQLITE_LOAD_CACHE_KIB = 64 * 1024

Writer = Callable[[Connection, dict[str, list[tuple]]], None]


def load_shop(engine: Engine, *, customers: int = 1000, seed: int = 0, progress: bool = False,
              now: datetime | None = None) -> dict[str, int]:
    """Fill the target database with the demo shop; return the rows inserted per table."""
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 0:
        raise ValueError(f"customers must be a whole number of 0 or more, not {customers!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be a whole number, not {seed!r}")
    inserted = dict.fromkeys(TABLES, 0)
    with engine.connect() as conn:
        with conn.begin():
            for table, count in restore_named_records(conn, now or utcnow()).items():
                inserted[table] += count
            first_missing, next_ids = _resume_point(conn)
        generator = ShopGenerator(seed, next_ids)
        writer, restore = _prepare_writer(conn)
        try:
            with tqdm(total=max(customers - first_missing, 0), unit="customer", unit_scale=True,
                      disable=not progress, file=sys.stderr, desc="demo shop") as bar:
                for start in range(first_missing, customers, CHUNK_CUSTOMERS):
                    stop = min(start + CHUNK_CUSTOMERS, customers)
                    rows = generator.batch(start, stop)
                    with conn.begin():
                        writer(conn, rows)
                    for table, table_rows in rows.items():
                        inserted[table] += len(table_rows)
                    del rows
                    bar.update(stop - start)
        finally:
            restore()
        if conn.dialect.name == "postgresql":
            with conn.begin():
                _reset_sequences(conn)
    return inserted


def _resume_point(conn: Connection) -> tuple[int, dict[str, int]]:
    """Return the first generated customer not yet loaded, and the next free id of each table."""
    last_customer = conn.execute(
        text("SELECT max(id) FROM customers WHERE id >= :first"), {"first": FIRST_CUSTOMER_ID}
    ).scalar()
    first_missing = 0 if last_customer is None else last_customer - FIRST_CUSTOMER_ID + 1
    next_ids = {}
    for table in TABLES[1:]:
        last = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar()
        next_ids[table] = max(FIRST_ROW_ID, (last or 0) + 1)
    return first_missing, next_ids


def _prepare_writer(conn: Connection) -> tuple[Writer, Callable[[], None]]:
    """Pick the fastest way in for this database; return it and how to undo its settings."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return _copy_rows, lambda: None
    if conn.dialect.name == "sqlite":
        with conn.begin():
            cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")

        def restore() -> None:
            with conn.begin():
                conn.exec_driver_sql(f"PRAGMA cache_size = {cache}")

        return _executemany_rows, restore
    return _insert_rows, lambda: None


def _copy_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    with conn.connection.driver_connection.cursor() as cursor:
        for table in TABLES:
            if rows[table]:
                with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)


def _executemany_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    # The statement is SQLAlchemy's own INSERT; only the parameters skip its per-row
    # processing, which measured 3-4x slower than the insert itself.
    for table in TABLES:
        if rows[table]:
            statement, datetime_positions = _sqlite_insert(table)
            conn.exec_driver_sql(statement, _sqlite_params(rows[table], datetime_positions))


def _insert_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    for table in TABLES:
        if rows[table]:
            columns = COLUMNS[table]
            conn.execute(insert(ShopBase.metadata.tables[table]), [dict(zip(columns, row)) for row in rows[table]])


_SQLITE_INSERTS: dict[str, tuple[str, tuple[int, ...]]] = {}


def _sqlite_insert(table_name: str) -> tuple[str, tuple[int, ...]]:
    if table_name not in _SQLITE_INSERTS:
        from sqlalchemy.dialects import sqlite

        table = ShopBase.metadata.tables[table_name]
        columns = COLUMNS[table_name]
        compiled = insert(table).compile(dialect=sqlite.dialect(), column_keys=list(columns))
        if tuple(compiled.positiontup) != columns:
            raise RuntimeError(f"{table_name}: INSERT parameters {compiled.positiontup} are not in COLUMNS order")
        datetimes = tuple(i for i, name in enumerate(columns) if table.c[name].type.python_type is datetime)
        _SQLITE_INSERTS[table_name] = (str(compiled), datetimes)
    return _SQLITE_INSERTS[table_name]


def _sqlite_params(rows: list[tuple], datetime_positions: tuple[int, ...]) -> list[tuple]:
    """Store datetimes as SQLAlchemy's SQLite DateTime type does: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if not datetime_positions:
        return rows
    params = []
    for row in rows:
        row = list(row)
        for i in datetime_positions:
            if row[i] is not None:
                row[i] = row[i].isoformat(" ", "microseconds")
        params.append(tuple(row))
    return params


def _reset_sequences(conn: Connection) -> None:
    """Move every id sequence past the explicit ids, so ORM inserts that follow do not collide."""
    for table in TABLES:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
        )
