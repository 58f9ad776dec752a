"""The two databases: the console's own records and the product (target) database.

Plain SQLAlchemy 2. Each app owns a `Databases` object in `app.extensions["console_db"]`;
sessions are scoped to the app context and removed on teardown, so each request gets one
session per database.
"""
from __future__ import annotations

import os
import weakref
from datetime import datetime, timezone

from flask import Flask, g
from flask.globals import _cv_app, _cv_request
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from console.engines import is_postgres, make_engine, reads_alone

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ConsoleBase(DeclarativeBase):
    """Declarative base for the console's own tables."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes_expected() -> bool:
    """Whether this app context means to write: an unsafe HTTP method, or `expect_writes()` was called."""
    # Flask's context variables, not its proxies: asked at every BEGIN, and each proxy hop is three calls.
    ctx = _cv_app.get(None)
    if ctx is None:
        return False
    wanted = ctx.g.__dict__.get("expects_writes")
    if wanted is not None:
        return wanted
    request_ctx = _cv_request.get(None)
    return request_ctx is not None and request_ctx.request.method not in SAFE_METHODS


def expect_writes(wanted: bool = True) -> None:
    """Declare that this app context writes (a CLI command, a GET that records something), or not.

    On SQLite its next transactions then take the write lock when they begin; see _fix_pysqlite.
    """
    g.expects_writes = wanted


def begin_writing(session: Session) -> None:
    """Let a page that reads (a GET) write next: on SQLite, end its read snapshot and take the lock first.

    A SQLite transaction that has read cannot wait for a writer (SQLITE_BUSY_SNAPSHOT comes back at once); at
    READ COMMITTED elsewhere a transaction that has read writes as any other, so it goes on.
    """
    expect_writes()
    if session.get_bind().dialect.name == "sqlite":
        session.commit()  # nothing is pending in a read-only page; committing keeps its objects loaded


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")


def reserve_ids(session: Session, table, count: int) -> list[int] | None:
    """`count` new ids of `table` from its sequence on PostgreSQL, in order; None elsewhere (or for none).

    Rows inserted many at once with their ids need no RETURNING, which makes SQLAlchemy send them as one
    statement with a placeholder per value, that psycopg then parses anew each time (never cached)."""
    if not count or not is_postgres(session.get_bind()):
        return None
    return list(session.scalars(_NEXT_IDS, {"table": table.name, "count": count}))


SESSION_OPTION = "console_sessions"


def _for_sessions(bind):
    """An engine as the app's sessions use it: marked, so that only they take SQLite's write lock."""
    return bind.execution_options(**{SESSION_OPTION: True}) if isinstance(bind, Engine) else bind


NO_APP_CONTEXT = "Working outside of application context: the console's databases belong to an app context."


def _current_app_ctx():
    # Flask's context variable, not the app_ctx/current_app proxies: sessions are looked up many times a
    # request, and each proxy hop is three calls.
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(NO_APP_CONTEXT)
    return ctx


def _app_ctx_id() -> int:
    return id(_current_app_ctx())


class Databases:
    """Engines and session factories for one app."""

    def __init__(self, console_url: str, target_url: str):
        self.same_database = console_url == target_url
        # One SQLite file has one write lock, and the runner must commit the intent on the
        # console side while it works on the target side: taking it up front would make the
        # request wait on itself. Separate files lock console first, then target (_console_first).
        locking = not self.same_database
        write_lock = self.takes_write_lock if locking else None
        self.console_engine = make_engine(console_url, write_lock=write_lock)
        self.target_engine = (self.console_engine if self.same_database else
                              make_engine(target_url, write_lock=write_lock))
        self.console_factory = sessionmaker(bind=_for_sessions(self.console_engine), expire_on_commit=False)
        self.target_factory = sessionmaker(bind=_for_sessions(self.target_engine), expire_on_commit=False)
        if locking and self.target_engine.dialect.name == "sqlite":
            event.listen(self.target_factory, "after_transaction_create", self._console_first)
        self.console = scoped_session(self.console_factory, scopefunc=_app_ctx_id)
        self.target = scoped_session(self.target_factory, scopefunc=_app_ctx_id)
        # console_reads' and target_reads' connections, by database and app context: taken from the engines
        # the sessions are bound to, not through the sessions. Each gives way when its session begins.
        self._reads: dict[tuple[str, int], Connection] = {}
        event.listen(self.console_factory, "after_transaction_create", self._reads_give_way("console"))
        event.listen(self.target_factory, "after_transaction_create", self._reads_give_way("target"))
        _forget_in_forked_children(self)

    @staticmethod
    def takes_write_lock(conn: Connection) -> bool:
        return conn.get_execution_options().get(SESSION_OPTION, False) and writes_expected()

    def _console_first(self, _session, transaction) -> None:
        # Always the console's lock before the target's, and before even a target connection
        # is taken from the pool: a request holding either while it waits for the console's,
        # beside one holding the console's and waiting for a connection, is a deadlock (seen with
        # fifty threads on fifteen pooled connections).
        if transaction.parent is None and writes_expected():
            self.console.connection()

    def _reads_give_way(self, database: str):
        # A request never holds a read connection and its session's at once: a GET that writes after reading (a
        # search's audit entry) would take a third pooled connection, and threads each holding some while
        # waiting for more can exhaust a pool (8 threads of 3 on SQLite's 15). What was read is already read.
        def give_way(_session, transaction) -> None:
            ctx = _cv_app.get(None)
            if transaction.parent is None and ctx is not None:
                conn = self._reads.pop((database, id(ctx)), None)
                if conn is not None:
                    conn.close()
        return give_way

    def bind(self, console_bind, target_bind, **options) -> None:
        """Point both factories at given connections (tests bind to an outer transaction) or engines."""
        self.console_factory.configure(bind=_for_sessions(console_bind), **options)
        self.target_factory.configure(bind=_for_sessions(target_bind), **options)

    def reads(self, database: str, key: int) -> Connection | None:
        """The app context `key`'s connection for reading `database` ("console" or "target") apart from its
        session (console_reads, target_reads); None when the sessions are bound to a connection. Closed by
        remove()."""
        conn = self._reads.get((database, key))
        if conn is None:
            # Bound to a connection, the sessions share the caller's transaction, and so must the reads.
            factory, engine = ((self.console_factory, self.console_engine) if database == "console"
                               else (self.target_factory, self.target_engine))
            if not isinstance(factory.kw.get("bind"), Engine):
                return None
            conn = engine.connect()
            reads_alone(conn)
            self._reads[(database, key)] = conn
        return conn

    def remove(self, _exc=None) -> None:
        """End this app context's sessions: each one that was used returns its connection to the pool.

        Both are forgotten, and both closed even when closing the first fails; the first failure is raised after.
        """
        # The registry's own dict, not scoped_session.remove(): remove() works out the scope three times per
        # session (has, get, clear), 26 more Python calls a page (bench --suite calls), and when close() raises
        # it leaves the session registered under an id a later app context may be given. The key is the same
        # for both. A session that was never asked for was never made and costs nothing here.
        key = _app_ctx_id()
        ends = (self.console.registry.registry.pop(key, None), self.target.registry.registry.pop(key, None),
                self._reads.pop(("console", key), None), self._reads.pop(("target", key), None))
        failure = None
        for used in ends:
            if used is not None:
                try:
                    used.close()
                except BaseException as exc:  # the others still return their connections
                    failure = failure or exc
        if failure is not None:
            raise failure

    def dispose(self) -> None:
        """Close every pooled connection (a process about to fork, or done with the databases)."""
        self.console_engine.dispose()
        self.target_engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child: start with empty pools, leaving the parent's connections to the parent."""
        # close=False: closing them here would end the parent's sessions on the server.
        self.console_engine.dispose(close=False)
        self.target_engine.dispose(close=False)


def _forget_in_forked_children(dbs: Databases) -> None:
    # Whoever forks (gunicorn, `gunicorn --preload 'wsgi:app'`, multiprocessing), the child never
    # uses a pooled connection of its parent. Weakly held: the hook must not keep an app alive.
    ref = weakref.ref(dbs)

    def after_in_child():
        alive = ref()
        if alive is not None:
            alive.forget_connections()

    os.register_at_fork(after_in_child=after_in_child)


def init_app(app: Flask) -> Databases:
    dbs = Databases(app.config["CONSOLE_DATABASE_URL"], app.config["TARGET_DATABASE_URL"])
    app.extensions["console_db"] = dbs
    app.teardown_appcontext(dbs.remove)
    return dbs


def databases(app: Flask | None = None) -> Databases:
    return (app or _current_app_ctx().app).extensions["console_db"]


def console_session() -> Session:
    """The console-database session of the current request or app context."""
    return databases().console


def target_session() -> Session:
    """The target-database session of the current request or app context."""
    return databases().target


def _reads(database: str) -> Connection:
    """`database`'s read connection for this app context (Databases.reads), or its session's connection when
    the request means to write, the session already began, or the sessions are bound to a connection."""
    dbs, key = databases(), _app_ctx_id()
    sessions = dbs.console if database == "console" else dbs.target
    session = sessions.registry.registry.get(key)  # the Session itself: the registry proxies no in_transaction()
    if not writes_expected() and (session is None or not session.in_transaction()):
        conn = dbs.reads(database, key)
        if conn is not None:
            return conn
    return sessions().connection()


def console_reads() -> Connection:
    """The console connection for what a page only reads there: the signed-in user, a record's runs and tickets.

    As target_reads does for the product: its own connection, in autocommit (the user's row
    costs one round trip, not three); the session's in a request that writes or whose session began.
    """
    return _reads("console")


def target_reads() -> Connection:
    """The target connection for a page that only reads the product: its lists, searches and records.

    A connection of its own, taken from the engine and returned when the app context ends, not the session's:
    the session's begin, connection and close cost a page about 120 Python calls more. It runs in autocommit
    (console.engines.reads_alone), so the page sends no BEGIN and no ROLLBACK, two of its six round trips.
    Nothing that writes to the product may use it, as nothing on it is rolled back (a task's rehearsal uses the
    session). In a
    request that means to write or whose session already began, and where the sessions are bound to a
    connection (tests bind an outer transaction), it is the session's own connection.
    """
    return _reads("target")


