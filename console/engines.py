"""Making an engine: the settings this project relies on, per database.

SQLite gets our own BEGIN (and BEGIN IMMEDIATE for a context that writes), MySQL and MariaDB READ COMMITTED,
and a pooled connection is pinged only when it sat idle or its server said something. console.db makes the
app's engines with `make_engine`; commands, tests and benchmarks that need an engine of their own do too.
"""
from __future__ import annotations

import select
import threading
import time
from typing import Callable

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.base import OptionEngine


class _Waiting:
    """How many threads of this process wait now for a SQLite write lock (in BEGIN IMMEDIATE)."""

    def __init__(self):
        self.count = 0
        self._guard = threading.Lock()

    def __enter__(self):
        with self._guard:
            self.count += 1

    def __exit__(self, *_exc):
        with self._guard:
            self.count -= 1


# A connection's execution option: its statements each stand alone, with no BEGIN or ROLLBACK (a page's reads;
# PostgreSQL's AUTOCOMMIT). SQLAlchemy's own AUTOCOMMIT level on SQLite would reset pysqlite's isolation level
# and run a PRAGMA each time the connection goes back to the pool.
READS_ALONE = "console_reads_alone"

# SQLite's busy handler polls for the lock up to 100 ms apart, so a waiter loses every race to a thread
# that takes the lock again sooner; the embedded bulk worker yields while this is above zero.
SQLITE_WRITERS_WAITING = _Waiting()


def _fix_pysqlite(engine: Engine, write_lock: Callable[[Connection], bool] | None = None) -> None:
    # pysqlite opens transactions lazily and never for SAVEPOINT, which breaks nested
    # transactions and test isolation; take over BEGIN ourselves (SQLAlchemy docs recipe).
    # A transaction that reads and then writes cannot wait for another writer in WAL mode:
    # SQLite answers SQLITE_BUSY_SNAPSHOT at once, whatever the busy timeout (two logins at
    # the same moment failed that way). So a context that writes takes the lock up front,
    # with BEGIN IMMEDIATE, and waits its turn; pages that only read stay lock-free.
    # Only the request's sessions do: a connection of its own (verify's snapshot) stays
    # deferred, or it would wait for the request's own session.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Emails are stored lower-case; a case-sensitive LIKE lets 'prefix%' use the index.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    # Straight to the driver: exec_driver_sql runs SQLAlchemy's whole statement path (events, execution
    # context, result) for a statement with no result, about 90 Python calls, and a page begins two.
    # Not as a "begin" event either: any engine event turns on event dispatch for every statement and
    # transaction of the engine (about 150 calls a page); BEGIN is the connection class's own step.
    class _Connection(Connection):
        def _begin_impl(self, transaction) -> None:
            if self._echo:
                self._log_info("BEGIN (implicit)")
            if self._execution_options.get(READS_ALONE):
                return  # pysqlite begins nothing itself here (isolation_level None): each statement stands alone
            try:
                if write_lock is not None and write_lock(self):
                    with SQLITE_WRITERS_WAITING:
                        self.connection.driver_connection.execute("BEGIN IMMEDIATE")
                else:
                    self.connection.driver_connection.execute("BEGIN")
            except BaseException as error:
                self._handle_dbapi_exception(error, None, None, None, None)

    class _OptionEngine(OptionEngine):  # engine.execution_options(...) makes these: the same connections
        _connection_cls = _Connection

    engine._connection_cls = _Connection
    engine._option_cls = _OptionEngine


def make_engine(url: str, *, write_lock: Callable[[Connection], bool] | None = None, **kwargs) -> Engine:
    """Create an engine with the settings this project relies on.

    `write_lock` (SQLite only) says, as a connection's transaction begins, whether it takes the write lock.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _fix_pysqlite(engine, write_lock)
        return engine
    if url.startswith(("mysql", "mariadb")):
        _mysql_settings(kwargs)
    if "poolclass" not in kwargs:  # a NullPool (the checkpoint keeper's) takes no size
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if "pool_pre_ping" not in kwargs:  # an explicit False means no ping at all
        _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg":
        _back_in_transactions(engine)
    return engine


def reads_alone(conn: Connection) -> None:
    """Make a connection just taken from the pool run each statement alone, with no BEGIN or ROLLBACK: a
    page's reads (console.db). A lone statement sees what it would see in a transaction of its own.

    On PostgreSQL, psycopg's own autocommit, which the pool puts back when the connection returns: SQLAlchemy's
    AUTOCOMMIT level set it and reset it through its characteristics, about 70 Python calls a connection. The
    audit refuses a connection marked so (console.audit.chain.entry_connection).
    """
    if conn.dialect.driver == "psycopg":
        conn.connection.dbapi_connection.autocommit = True
        conn.execution_options(**{READS_ALONE: True})
    elif conn.dialect.name == "sqlite":
        conn.execution_options(**{READS_ALONE: True})  # our BEGIN is skipped (_fix_pysqlite)
    else:
        conn.execution_options(isolation_level="AUTOCOMMIT")  # MySQL and MariaDB, at READ COMMITTED


def _back_in_transactions(engine: Engine) -> None:
    # A connection that read alone goes back to the pool in transactions again, or not at all: the next to
    # take it may be a session whose writes must commit together (a run, an audit entry).
    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        if dbapi_connection is not None and dbapi_connection.autocommit:
            try:
                dbapi_connection.autocommit = False
            except Exception:
                record.invalidate()


def _mysql_settings(kwargs: dict) -> None:
    # InnoDB's default, REPEATABLE READ, answers plain reads from the snapshot of the transaction's
    # first read, while UPDATE and SELECT ... FOR UPDATE see the newest committed row, so one task
    # could read one value and lock another; and its locking reads also lock the gaps between
    # rows, which makes concurrent inserts (refunds, outbox emails) wait or deadlock. READ
    # COMMITTED is PostgreSQL's default: every statement sees what was committed before it began.
    kwargs.setdefault("isolation_level", "READ COMMITTED")


PING_AFTER_IDLE_SECONDS = 5.0


def _server_said_something(dbapi_connection) -> bool:
    """Whether the idle connection's socket has something to read: a server that ended it said so, or hung up."""
    try:
        fileno = dbapi_connection.fileno()
    except Exception:  # no socket to look at (closed, or a driver without one): ping
        return True
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _ping_when_idle(engine: Engine) -> None:
    # pool_pre_ping costs a round trip on every checkout, and a page checks out two connections. A
    # pooled connection has nothing to read from its socket unless the server ended it (a restart, a
    # terminated backend): only then, or after it sat idle for a while (a network that dropped it
    # silently), is it pinged, and one that fails the ping is replaced before the request sees it.
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None:
            return  # just connected
        if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS and not _server_said_something(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError() from error  # the pool replaces the connection and retries
            raise


def is_postgres(bind) -> bool:
    return bind.dialect.name == "postgresql"


def database_error_text(exc: BaseException) -> str:
    """A database's error in one line: its class and the driver's first line, without the SQL statement."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0] if lines else 'no message'}"
