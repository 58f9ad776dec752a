"""The demo shop's demo data (its `load_demo_data` hook): the named records, then N generated customers.

Deterministic: the same seed gives the same rows (generated data is dated from a fixed epoch;
only order 1003 is dated from the clock, see demo_named). Idempotent: the named records are
reset to their documented state, and generated customers that already exist are skipped, so a
larger N adds only the missing ones. Fast: rows go in per chunk of customers, each chunk in one
transaction (so the database always holds a whole prefix of customers with all their rows),
through COPY on PostgreSQL, prepared executemany on SQLite, and multi-row INSERTs of up to a megabyte on
MySQL/MariaDB.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from pymysql.constants.SERVER_STATUS import SERVER_STATUS_NO_BACKSLASH_ESCAPES
from pymysql.converters import escape_string
from sqlalchemy import ForeignKeyConstraint, Index, MetaData, insert, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import AddConstraint, DropConstraint
from tqdm import tqdm

from admin_tasks.shop.demo_generated import COLUMNS, FIRST_CUSTOMER_ID, FIRST_ROW_ID, TABLES, ShopGenerator
from admin_tasks.shop.demo_named import NamedRecordConflict, restore_named_records, utcnow
from admin_tasks.shop.schema import ShopBase

__all__ = ["load_demo_data", "load_shop", "NamedRecordConflict", "ShopSchemaMissing"]

CHUNK_CUSTOMERS = 5000
# Building an index once from sorted data beats millions of random B-tree inserts, but only
# when the load is big, and big next to what is already there.
REBUILD_INDEXES_FROM = 50_000
# A bigger page cache keeps hot index pages in memory. Measured at 300k customers (CPU s / peak
# RSS): default 2 MiB 42 / 87 MB, 32 MiB 39 / 164 MB, 64 MiB 35 / 218 MB; the peak budget is 300 MB.
SQLITE_LOAD_CACHE_KIB = 32 * 1024
MYSQL = ("mysql", "mariadb")
MYSQL_STATEMENT_BYTES = 1_000_000  # as PyMySQL's executemany folds rows; the server's default packet is 16 MB

Writer = Callable[[Connection, dict[str, list[tuple]]], None]


class ShopSchemaMissing(ValueError):
    """The target database lacks the demo shop's tables."""


def load_demo_data(engine: Engine, *, customers: int, seed: int, progress: bool = False) -> list[str]:
    """The package's `load_demo_data` hook: fill the shop, and say what `demo-data` prints about it."""
    counts = load_shop(engine, customers=customers, seed=seed, progress=progress)
    added = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
    return [f"Shop: added {added}" if added else "Shop: up to date"]


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
            _check_schema(conn)
            _restore_indexes_and_keys(conn)  # an interrupted big load may have left them dropped
            for table, count in restore_named_records(conn, now or utcnow()).items():
                inserted[table] += count
            first_missing, next_ids = _resume_point(conn)
        missing = max(customers - first_missing, 0)
        rebuild_indexes = missing >= max(REBUILD_INDEXES_FROM, first_missing)
        generator = ShopGenerator(seed, next_ids)
        bar = tqdm(total=missing, unit="customer", unit_scale=True, desc="demo shop", file=sys.stderr,
                   disable=not progress or not missing)
        with bar, _bulk_mode(conn, rebuild_indexes=rebuild_indexes, bar=bar) as writer:
            # Generating the next chunk in a thread while this one is written measured no faster:
            # the writer then waits for the GIL after every step SQLite or libpq releases it.
            for start in range(first_missing, customers, CHUNK_CUSTOMERS):
                stop = min(start + CHUNK_CUSTOMERS, customers)
                rows = generator.batch(start, stop)
                with conn.begin():
                    writer(conn, rows)
                for table, table_rows in rows.items():
                    inserted[table] += len(table_rows)
                del rows
                bar.update(stop - start)
        if conn.dialect.name == "postgresql":
            with conn.begin():
                _reset_sequences(conn)
    return inserted


def _check_schema(conn: Connection) -> None:
    inspector = inspect(conn)
    missing = [table for table in TABLES if not inspector.has_table(table)]
    if missing:
        raise ShopSchemaMissing(
            f"the target database has no {', '.join(missing)} table{'' if len(missing) == 1 else 's'}; "
            "run `support-console init` first"
        )


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


@contextmanager
def _bulk_mode(conn: Connection, *, rebuild_indexes: bool, bar: tqdm) -> Iterator[Writer]:
    """Yield the fastest writer for this database, with its bulk settings undone afterwards."""
    sqlite_cache = None
    if conn.dialect.name == "sqlite":
        with conn.begin():
            sqlite_cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
    if rebuild_indexes:
        with conn.begin():
            if _drops_foreign_keys(conn):
                # Checking each child row's parent doubled the load time; the constraint
                # is added back at the end, which checks every row in one pass. Dropped before the
                # indexes: MySQL refuses to drop an index a foreign key relies on.
                for foreign_key in _foreign_keys(conn, present=True):
                    conn.execute(DropConstraint(foreign_key))
            for index in _indexes():
                index.drop(conn, checkfirst=True)
    try:
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            yield _copy_rows
        elif conn.dialect.name in MYSQL and conn.dialect.driver == "pymysql" and _backslash_escapes(conn):
            yield _mysql_rows
        elif conn.dialect.name == "sqlite" or conn.dialect.name in MYSQL and conn.dialect.driver == "pymysql":
            yield _executemany_rows
        else:
            yield _insert_rows
    finally:
        if conn.in_transaction():
            conn.rollback()
        if rebuild_indexes:
            bar.set_description("demo shop: rebuilding indexes")
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
                _restore_indexes_and_keys(conn)
            if conn.dialect.name == "postgresql" or conn.dialect.name in MYSQL:
                analyze = "ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE TABLE"
                with conn.begin():
                    for table in TABLES:
                        conn.exec_driver_sql(f"{analyze} {table}")
        if sqlite_cache is not None:
            with conn.begin():
                conn.exec_driver_sql(f"PRAGMA cache_size = {sqlite_cache}")


def _indexes() -> list[Index]:
    return [index for table in TABLES for index in ShopBase.metadata.tables[table].indexes]


def _foreign_keys(conn: Connection, *, present: bool) -> list[ForeignKeyConstraint]:
    """Return the shop's foreign keys that are (or are not) in the database now."""
    # Copies: AddConstraint marks its constraint as "not part of CREATE TABLE", which would
    # silently drop the foreign keys from every later create_all() of ShopBase.
    schema = MetaData()
    for table in ShopBase.metadata.sorted_tables:
        table.to_metadata(schema)
    inspector = inspect(conn)
    found = []
    for name in TABLES:
        names = {foreign_key["name"] for foreign_key in inspector.get_foreign_keys(name)}
        found += [fk for fk in schema.tables[name].foreign_key_constraints if (fk.name in names) == present]
    return found


def _drops_foreign_keys(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" or conn.dialect.name in MYSQL


def _restore_indexes_and_keys(conn: Connection) -> None:
    """Create the shop's indexes (and, on PostgreSQL and MySQL, foreign keys) that a bulk load dropped."""
    for index in _indexes():
        index.create(conn, checkfirst=True)
    if not _drops_foreign_keys(conn):
        return
    missing = _foreign_keys(conn, present=False)
    if missing and conn.dialect.name in MYSQL:
        # With checks on, MySQL adds a foreign key by copying the whole table; with them off, in
        # place. The rows were written parents first, a whole chunk per transaction.
        conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    try:
        for foreign_key in missing:
            conn.execute(AddConstraint(foreign_key))
    finally:
        if missing and conn.dialect.name in MYSQL:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 1")


def _copy_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    # A crash loses at most the last chunks, which the next run simply loads again.
    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    with conn.connection.driver_connection.cursor() as cursor:
        for table in TABLES:
            if rows[table]:
                with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)


_INSERTS: dict[tuple[str, str], str] = {}


def _executemany_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    # The statement is SQLAlchemy's own INSERT; only the parameters skip its per-row
    # processing, which measured 3-4x slower than the insert itself.
    for table in TABLES:
        if rows[table]:
            key = (conn.dialect.name, table)
            if key not in _INSERTS:
                _INSERTS[key] = _positional_insert(conn, table)
            conn.exec_driver_sql(_INSERTS[key], rows[table])


def _backslash_escapes(conn: Connection) -> bool:
    """Whether the server reads a backslash in a string literal as an escape (not so in NO_BACKSLASH_ESCAPES)."""
    return not conn.connection.driver_connection.server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES


def _mysql_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    """Each table's rows as multi-row INSERTs, their values written here: PyMySQL's executemany passes
    each value through four calls to escape it, two thirds of the load's own CPU (1.0 s of 1.5 s per chunk)."""
    with conn.connection.driver_connection.cursor() as cursor:
        for table in TABLES:
            statement, size = [], 0
            prefix = f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES "
            for row in rows[table]:
                values = "(" + ",".join(map(_mysql_literal, row)) + ")"
                if statement and size + len(values) > MYSQL_STATEMENT_BYTES:
                    cursor.execute(prefix + ",".join(statement))
                    statement, size = [], 0
                statement.append(values)
                size += len(values) + 1
            if statement:
                cursor.execute(prefix + ",".join(statement))


def _mysql_literal(value) -> str:
    """A generated value as PyMySQL writes it for a server that reads backslash escapes."""
    if value.__class__ is str:
        return "'" + escape_string(value) + "'"
    if value is None:
        return "NULL"
    if value is True or value is False:  # before int: a bool is one
        return "1" if value else "0"
    if value.__class__ is int:
        return str(value)
    raise TypeError(f"the demo shop generates text, whole numbers, booleans and NULL, not {type(value).__name__}")


def _positional_insert(conn: Connection, table: str) -> str:
    # PyMySQL's executemany folds rows into one multi-row INSERT only for a positional '%s' statement.
    dialect = conn.dialect if conn.dialect.positional else type(conn.dialect)(paramstyle="format")
    compiled = insert(ShopBase.metadata.tables[table]).compile(dialect=dialect, column_keys=list(COLUMNS[table]))
    if tuple(compiled.positiontup or ()) != COLUMNS[table]:
        raise RuntimeError(f"{table}: INSERT parameters {compiled.positiontup} are not in COLUMNS order")
    return str(compiled)


def _insert_rows(conn: Connection, rows: dict[str, list[tuple]]) -> None:
    """Insert through SQLAlchemy's type processing: slow, but right on any database."""
    for name in TABLES:
        if rows[name]:
            table = ShopBase.metadata.tables[name]
            datetimes = {column for column in COLUMNS[name] if table.c[column].type.python_type is datetime}
            conn.execute(insert(table), [
                {column: datetime.fromisoformat(value) if column in datetimes and value else value
                 for column, value in zip(COLUMNS[name], row)}
                for row in rows[name]
            ])


def _reset_sequences(conn: Connection) -> None:
    """Move every id sequence past the explicit ids, so ORM inserts that follow do not collide."""
    for table in TABLES:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
        )
