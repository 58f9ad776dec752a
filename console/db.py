"""The two databases: the console's own records and the product (target) database.

Plain SQLAlchemy 2. Each app owns a `Databases` object in `app.extensions["console_db"]`;
sessions are scoped to the app context and removed on teardown, so each request gets one
session per database.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, Flask
from flask.globals import app_ctx
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

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


def _fix_pysqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and never for SAVEPOINT, which breaks nested
    # transactions and test isolation; take over BEGIN ourselves (SQLAlchemy docs recipe).
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

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine with the settings this project relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _fix_pysqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def is_postgres(bind) -> bool:
    return bind.dialect.name == "postgresql"


def _app_ctx_id() -> int:
    return id(app_ctx._get_current_object())


class Databases:
    """Engines and session factories for one app."""

    def __init__(self, console_url: str, target_url: str):
        self.console_engine = make_engine(console_url)
        self.same_database = console_url == target_url
        self.target_engine = self.console_engine if self.same_database else make_engine(target_url)
        self.console_factory = sessionmaker(bind=self.console_engine, expire_on_commit=False)
        self.target_factory = sessionmaker(bind=self.target_engine, expire_on_commit=False)
        self.console = scoped_session(self.console_factory, scopefunc=_app_ctx_id)
        self.target = scoped_session(self.target_factory, scopefunc=_app_ctx_id)

    def bind(self, console_bind, target_bind, **options) -> None:
        """Point both factories at given connections (tests bind to an outer transaction)."""
        self.console_factory.configure(bind=console_bind, **options)
        self.target_factory.configure(bind=target_bind, **options)

    def remove(self, _exc=None) -> None:
        self.console.remove()
        self.target.remove()

    def dispose(self) -> None:
        self.console_engine.dispose()
        self.target_engine.dispose()


def init_app(app: Flask) -> Databases:
    dbs = Databases(app.config["CONSOLE_DATABASE_URL"], app.config["TARGET_DATABASE_URL"])
    app.extensions["console_db"] = dbs
    app.teardown_appcontext(dbs.remove)
    return dbs


def databases(app: Flask | None = None) -> Databases:
    return (app or current_app).extensions["console_db"]


def console_session() -> Session:
    """The console-database session of the current request or app context."""
    return databases().console


def target_session() -> Session:
    """The target-database session of the current request or app context."""
    return databases().target
