"""console.direct: prebuilt statements sent straight to psycopg, in the SQLAlchemy connection's transaction.

On PostgreSQL and SQLite the rows come from the driver (on SQLite with SQLAlchemy's own conversion of the
result's times and booleans); a statement that needs SQLAlchemy at execution time, and a connection with
listeners, get SQLAlchemy's own `execute()`. Either way a caller sees the same
rows, the same errors and the same transaction. These run on the console database of the run (SQLite, or
PostgreSQL with TEST_DATABASE_URL), in a table of their own.
"""
from datetime import datetime

import pytest
from sqlalchemy import (Boolean, Column, DateTime, Integer, MetaData, String, Table, bindparam, event, func, insert,
                        or_, select, update)
from sqlalchemy.exc import IntegrityError, StatementError

from console import direct
from console.direct import Sent, send, send_all
from console.engines import make_engine

METADATA = MetaData()
THINGS = Table("direct_things", METADATA, Column("id", Integer, primary_key=True), Column("name", String(40), unique=True),
               Column("done", Boolean, nullable=False, default=False),
               Column("made_at", DateTime, nullable=False, default=datetime.utcnow))
ADD = insert(THINGS).values(id=bindparam("id"), name=bindparam("name"), done=bindparam("done"),
                            made_at=bindparam("made_at")).returning(THINGS.c.id, THINGS.c.name)
ADD_UNDONE = insert(THINGS).values(id=bindparam("id"), name=bindparam("name"), made_at=bindparam("made_at"))
ADD_NOW = insert(THINGS).values(id=bindparam("id"), name=bindparam("name"))  # made_at: the clock, per row
NAMED = select(THINGS.c.id, THINGS.c.name, THINGS.c.done).where(THINGS.c.name == bindparam("name"))
RENAME = update(THINGS).where(THINGS.c.id == bindparam("key")).values(name=bindparam("name"))
WHEN = datetime(2026, 12, 7, 9, 30)


@pytest.fixture
def engine(database_urls):
    engine = make_engine(database_urls["console"])
    METADATA.create_all(engine)
    yield engine
    METADATA.drop_all(engine)
    engine.dispose()


def _driver_sends(engine) -> bool:
    return engine.dialect.driver in ("psycopg", "pysqlite")


def _pipelines(engine) -> bool:
    return engine.dialect.driver == "psycopg"


def test_rows_come_back_by_name_in_the_connections_transaction(engine):
    with engine.connect() as conn:
        added = send(conn, ADD, {"id": 1, "name": "first", "done": True, "made_at": WHEN})
        assert isinstance(added, Sent) is _driver_sends(engine)
        row = added.one()
        assert (row.id, row.name) == (1, "first") and row._asdict() == {"id": 1, "name": "first"}
        assert send(conn, RENAME, {"key": 1, "name": "renamed"}).rowcount == 1
        found = send(conn, NAMED, {"name": "renamed"})
        assert [tuple(r) for r in found] == [(1, "renamed", True)]
        assert send(conn, NAMED, {"name": "renamed"}).scalar_one() == 1
        assert send(conn, NAMED, {"name": "nobody"}).first() is None
        assert send(conn, NAMED, {"name": "nobody"}).scalar() is None
        conn.rollback()  # what was sent is the transaction's: rolled back with it
        assert conn.execute(select(func.count()).select_from(THINGS)).scalar() == 0


def test_a_statement_sent_first_begins_the_transaction_that_commit_ends(engine):
    with engine.connect() as conn:
        send(conn, ADD, {"id": 2, "name": "kept", "done": False, "made_at": WHEN})
        assert conn.in_transaction()
        conn.commit()
    with engine.connect() as conn:
        assert conn.execute(select(THINGS.c.name)).scalars().all() == ["kept"]


def test_a_plain_default_is_written_and_a_clock_default_is_left_to_sqlalchemy(engine):
    with engine.connect() as conn:
        send(conn, ADD_UNDONE, {"id": 3, "name": "undone", "made_at": WHEN})  # done: False, the column's default
        send(conn, ADD_NOW, {"id": 4, "name": "now"})
        rows = {r.name: (r.done, r.made_at) for r in conn.execute(select(THINGS))}
        assert rows["undone"] == (False, WHEN)
        assert rows["now"][0] is False and rows["now"][1] > WHEN
        if _driver_sends(engine):
            assert direct._PREPARED[id(ADD_NOW)][2] is direct._BY_SQLALCHEMY
            assert direct._PREPARED[id(ADD_UNDONE)][2] is not direct._BY_SQLALCHEMY


def test_errors_are_sqlalchemys(engine):
    with engine.connect() as conn:
        send(conn, ADD, {"id": 5, "name": "twice", "done": False, "made_at": WHEN})
        with pytest.raises(IntegrityError):
            send(conn, ADD, {"id": 6, "name": "twice", "done": False, "made_at": WHEN})
        conn.rollback()
        with pytest.raises(StatementError, match="A value is required for bind parameter 'made_at'"):
            send(conn, ADD, {"id": 7, "name": "no time", "done": False})
        conn.rollback()
        with pytest.raises(StatementError, match="Not a boolean value"):  # the Boolean type's own check
            send(conn, ADD, {"id": 8, "name": "maybe", "done": "maybe", "made_at": WHEN})


def test_a_connection_with_listeners_sees_every_statement(engine):
    seen = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with engine.connect() as conn:
        result = send(conn, ADD, {"id": 9, "name": "watched", "done": False, "made_at": WHEN})
        assert not isinstance(result, Sent) and result.one().name == "watched"
        conn.rollback()
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO direct_things")


def test_a_connection_the_server_dropped_fails_as_sqlalchemy_says(engine):
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as conn:
        send(conn, NAMED, {"name": "anyone"})
        conn.connection.dbapi_connection.close()
        with pytest.raises(DBAPIError) as raised:  # OperationalError, or ProgrammingError on SQLite
            send(conn, NAMED, {"name": "anyone"})
        assert raised.value.connection_invalidated  # the pool will not hand it out again


def _round_trips(engine, monkeypatch) -> list:
    """Each time psycopg waits for the server (on PostgreSQL): a pipeline waits once for all it sent."""
    if not _pipelines(engine):
        return []
    import psycopg

    waits, entered = [], psycopg.Connection.pipeline
    monkeypatch.setattr(psycopg.Connection, "pipeline", lambda self: waits.append("pipeline") or entered(self))
    return waits


def test_statements_sent_together_give_each_its_rows_in_one_pipeline(engine, monkeypatch):
    with engine.connect() as conn:
        send(conn, ADD, {"id": 10, "name": "ten", "done": True, "made_at": WHEN})
        send(conn, ADD, {"id": 11, "name": "eleven", "done": False, "made_at": WHEN})
        pipelines = _round_trips(engine, monkeypatch)
        ten, nobody, eleven = send_all(conn, [(NAMED, {"name": "ten"}), (NAMED, {"name": "nobody"}),
                                              (NAMED, {"name": "eleven"})])
        assert [tuple(r) for r in ten] == [(10, "ten", True)] and nobody.first() is None
        assert eleven.one()._asdict() == {"id": 11, "name": "eleven", "done": False}
        assert pipelines == (["pipeline"] if _pipelines(engine) else [])
        assert conn.in_transaction()  # the connection's own transaction: what it added is seen, and rolled back
        conn.rollback()
        assert conn.execute(select(func.count()).select_from(THINGS)).scalar() == 0


def test_a_call_that_needs_sqlalchemy_sends_them_all_one_by_one(engine, monkeypatch):
    with engine.connect() as conn:
        pipelines = _round_trips(engine, monkeypatch)
        _added, found = send_all(conn, [(ADD_NOW, {"id": 12, "name": "clock"}), (NAMED, {"name": "clock"})])
        assert found.one().name == "clock"  # sent in order: the second sees what the first added
        assert pipelines == []
        conn.rollback()


def test_a_failed_statement_among_several_raises_as_sqlalchemy_says(engine):
    with engine.connect() as conn:
        send(conn, ADD, {"id": 13, "name": "taken", "done": False, "made_at": WHEN})
        conn.commit()
        with pytest.raises(IntegrityError):
            send_all(conn, [(NAMED, {"name": "taken"}), (ADD, {"id": 14, "name": "taken", "done": False,
                                                                "made_at": WHEN})])
        conn.rollback()
        assert send_all(conn, [(NAMED, {"name": "taken"}), (NAMED, {"name": "nobody"})])[0].one().id == 13
        conn.rollback()
    with engine.begin() as conn:
        conn.execute(THINGS.delete())


def test_a_pipeline_on_a_connection_the_server_dropped_fails_as_sqlalchemy_says(engine):
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as conn:
        send(conn, NAMED, {"name": "anyone"})
        conn.connection.dbapi_connection.close()
        with pytest.raises(DBAPIError) as raised:
            send_all(conn, [(NAMED, {"name": "anyone"}), (NAMED, {"name": "else"})])
        assert raised.value.connection_invalidated


def test_rows_come_back_as_the_types_sqlalchemy_gives(engine):
    """SQLite keeps times as text and booleans as integers: the rows sent directly are converted as SQLAlchemy's."""
    everything = select(THINGS).where(THINGS.c.id == bindparam("id"))
    # A parameter used twice: SQLite's positional style names it twice in order.
    either = select(THINGS.c.id).where(or_(THINGS.c.name == bindparam("name"),
                                           THINGS.c.name == func.lower(bindparam("name"))))
    with engine.connect() as conn:
        send(conn, ADD, {"id": 20, "name": "typed", "done": True, "made_at": WHEN})
        sent = send(conn, everything, {"id": 20})
        assert isinstance(sent, Sent) is _driver_sends(engine)
        row = sent.one()
        assert tuple(row) == tuple(conn.execute(everything, {"id": 20}).one()) == (20, "typed", True, WHEN)
        assert row.done is True and type(row.made_at) is datetime
        assert send(conn, either, {"name": "TYPED"}).scalar_one() == 20
        conn.rollback()
