"""Prebuilt statements sent straight to the driver (psycopg, or SQLite's), on a SQLAlchemy connection's transaction.

An audited run sends nine statements, and SQLAlchemy's way from `execute()` to the driver and back (the
compiled cache, an execution context, the parameters' processing, a result's metadata from the cursor's
description) cost about 100 Python calls a statement on top of psycopg's own 55: a quarter of the run
(bench --suite calls). `send()` compiles a statement once and hands its SQL and parameters to the driver's
cursor of the same connection, in the same transaction, and gives back the rows as named tuples.

It takes over only where that changes nothing:
- PostgreSQL through psycopg, whose driver converts the types itself, and SQLite, whose text times and integer
  booleans are converted by SQLAlchemy's own result processors of the columns' types; elsewhere (MySQL), for a
  Session, and on a connection with event listeners (tests that watch statements), echo or a schema map, it is
  plain `execute()`;
- statements whose compiled form SQLAlchemy would not change at execution time: no default worked out per row
  (the clock), no expanding IN list, and on PostgreSQL no result processor (a type of the application's own);
  a parameter's processor (a Boolean's check, SQLite's text for a time) and a plain default (an empty text)
  are applied as SQLAlchemy applies them. Any other statement goes to `conn.execute()` for good, as does a
  call that leaves out a parameter or gives a value of the wrong type (so that SQLAlchemy says what is wrong,
  as it would have);
- a driver error is raised as SQLAlchemy raises it (IntegrityError, OperationalError...), through the
  connection's own handler, which also invalidates a connection the server dropped.

`send_all()` sends statements that do not depend on each other in one round trip (psycopg's pipeline; SQLite,
in-process, sends them one by one).

Only what the callers ask of a result exists: `first()`, `one()`, `scalar()`, `scalar_one()`, `all()`,
iteration and `rowcount`; a row's columns by position, by name (`row.seq`), `row._fields`, `row._asdict()`
and `row._mapping` (a dict), as on SQLAlchemy's rows.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection

# id(statement) -> (statement, dialect, how it is sent): the statement is kept so that its id is never another's.
_PREPARED: dict[int, tuple[Any, Any, Any]] = {}
_LIMIT = 512  # statements built per call (rare) are forgotten wholesale past this many
_BY_SQLALCHEMY = object()  # this statement goes through conn.execute()
_DRIVERS = ("psycopg", "pysqlite")


class Sent:
    """The rows a statement sent straight to the driver gave back."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list, rowcount: int):
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self):
        return iter(self.rows)

    def all(self) -> list:
        return self.rows

    def first(self):
        return self.rows[0] if self.rows else None

    def one(self):
        if len(self.rows) != 1:
            raise exc.NoResultFound("No row was found when one was required") if not self.rows else \
                exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self.rows[0]

    def scalar(self):
        return self.rows[0][0] if self.rows else None

    def scalar_one(self):
        return self.one()[0]


def _prepare(conn: Connection, statement):
    """(SQL, the fixed parameters' values, the names every call must give, the processors of the parameters
    a call gives, the row type or None, the parameters' names in order for SQLite's positional style or None,
    the result columns' processors or None), or _BY_SQLALCHEMY when the compiled statement needs SQLAlchemy
    at execution time."""
    compiled = statement.compile(dialect=conn.dialect)
    sqlite = conn.dialect.name == "sqlite"
    if (compiled.post_compile_params or compiled.literal_execute_params or compiled.escaped_bind_names
            or (compiled.positiontup is not None and not sqlite)):
        return _BY_SQLALCHEMY
    fixed = compiled.construct_params(_check=False)
    # A column default the statement leaves to SQLAlchemy ("prefetch") is a fixed value when it is a plain one
    # (an empty text, False); one worked out per row (the clock) is SQLAlchemy's to call.
    prefetched = [(column, column.default) for column in compiled.insert_prefetch]
    prefetched += [(column, column.onupdate) for column in compiled.update_prefetch]
    for column, default in prefetched:
        if default is None or not default.is_scalar:
            return _BY_SQLALCHEMY
        fixed[compiled._within_exec_param_key_getter(column)] = default.arg
    processors = dict(compiled._bind_processors)  # a Boolean's check that it is one, for instance
    for name, process in processors.items():
        if name in fixed and fixed[name] is not None:
            fixed[name] = process(fixed[name])
    columns = compiled._result_columns
    names = [column[0] for column in columns]
    if len(set(names)) != len(names) or not all(name.isidentifier() and name[0] != "_" for name in names):
        return _BY_SQLALCHEMY
    try:
        convert = [column[3]._cached_result_processor(conn.dialect, None) for column in columns]
    except exc.SQLAlchemyError:  # a type that decides by the column's type in the result (PostgreSQL's numeric)
        return _BY_SQLALCHEMY
    convert = [(at, process) for at, process in enumerate(convert) if process is not None] or None
    # psycopg converts the types itself: a processor there is a type of the application's, left to SQLAlchemy.
    if convert is not None and not sqlite:
        return _BY_SQLALCHEMY
    required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
    positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return compiled.string, fixed, required, processors, _row_type(names) if columns else None, positions, convert


def _row_type(names: list[str]) -> type:
    """A named tuple of these columns, which also answers `row._mapping` as SQLAlchemy's rows do."""
    return type("Row", (namedtuple("Row", names),), {"__slots__": (), "_mapping": property(lambda row: row._asdict())})


def _ready(conn: Connection, statement, params: dict | None):
    """(SQL, values, row type, result processors) for sending this call straight to the driver, or None when it
    goes through SQLAlchemy. Begins SQLAlchemy's transaction when there is none, as execute() does first."""
    if (not isinstance(conn, Connection) or conn.dialect.driver not in _DRIVERS or conn._has_events
            or conn.engine._has_events or conn._echo or "schema_translate_map" in conn._execution_options):
        return None
    held = _PREPARED.get(id(statement))
    if held is None or held[0] is not statement or held[1] is not conn.dialect:
        if len(_PREPARED) >= _LIMIT:
            _PREPARED.clear()
        held = _PREPARED[id(statement)] = (statement, conn.dialect, _prepare(conn, statement))
    how = held[2]
    if how is _BY_SQLALCHEMY:
        return None
    sql, fixed, required, processors, row, positions, convert = how
    transaction = conn.get_transaction()
    if (transaction is not None and not transaction.is_active) or not required.issubset(params or ()):
        return None  # execute() then raises what SQLAlchemy says of it
    values = {**fixed, **params} if params else fixed
    if processors and params:
        try:
            for name, process in processors.items():
                if name in params:
                    values[name] = process(params[name])
        except Exception:  # a value of the wrong type: SQLAlchemy says so as it does (StatementError)
            return None
    if transaction is None:
        conn.begin()  # what execute() does first: SQLAlchemy's transaction, which its commit ends
    if positions is not None:
        values = tuple([values[name] for name in positions])
    return sql, values, row, convert


def _sent(cursor, row, convert) -> Sent:
    if row is None:
        return Sent([], cursor.rowcount)
    found = cursor.fetchall()
    make = tuple.__new__  # what row._make does, less its Python frame: the driver gives each row whole
    if convert is None:
        return Sent([make(row, values) for values in found], cursor.rowcount)
    rows = []
    for values in found:  # SQLite's text times and integer booleans, as SQLAlchemy's result turns them
        values = list(values)
        for at, process in convert:
            if values[at] is not None:
                values[at] = process(values[at])
        rows.append(make(row, values))
    return Sent(rows, cursor.rowcount)


def send(conn: Connection, statement, params: dict | None = None):
    """Run a prebuilt statement (its parameters all named bindparams or fixed values) on `conn`'s transaction;
    a `Sent` straight from the driver where that changes nothing, else SQLAlchemy's own result (always for a
    Session, whose execute() flushes first)."""
    ready = _ready(conn, statement, params)
    return conn.execute(statement, params) if ready is None else _one(conn, *ready)


def _one(conn: Connection, sql: str, values, row, convert) -> Sent:
    cursor = None
    try:
        cursor = conn.connection.dbapi_connection.cursor()  # a connection the server dropped fails here
        cursor.execute(sql, values)
        return _sent(cursor, row, convert)
    except Exception as error:
        conn._handle_dbapi_exception(error, sql, values, cursor, None)  # raises SQLAlchemy's exception
    finally:
        if cursor is not None:
            cursor.close()


def send_all(conn: Connection, calls: list[tuple]) -> list:
    """[send(conn, statement, params) for statement, params in calls], in one round trip where each of them
    could be sent straight to the driver: psycopg's pipeline sends them all before it waits for the first
    answer. Only for statements that do not depend on each other's rows: reads, typically.

    A round trip is dear on a shared machine: a route reading six rows by key one after the other served 1,000
    requests a second under wrk where one read served 1,900, and 1,300 with the six pipelined. A record page
    opens 13-21% sooner. A failed statement raises as send() would, and those after it are not run.
    """
    ready = [_ready(conn, statement, params) for statement, params in calls]
    if len(calls) < 2 or None in ready or conn.dialect.driver != "psycopg":  # pysqlite has no pipeline
        return [conn.execute(statement, params) if how is None else _one(conn, *how)
                for (statement, params), how in zip(calls, ready)]
    cursors = []
    try:
        driver = conn.connection.dbapi_connection  # a connection the server dropped fails here
        with driver.pipeline():
            for sql, values, _row, _convert in ready:
                cursors.append(driver.cursor())
                cursors[-1].execute(sql, values)
        return [_sent(cursor, how[2], how[3]) for cursor, how in zip(cursors, ready)]
    except Exception as error:  # the message shows every statement: which one failed is the driver's to say
        conn._handle_dbapi_exception(error, ";\n".join(how[0] for how in ready), [how[1] for how in ready],
                                     cursors[-1] if cursors else None, None)
    finally:
        for cursor in cursors:
            cursor.close()
