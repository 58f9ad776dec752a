"""A lookup page only reads the product: its statements each stand alone (autocommit), with no BEGIN or
ROLLBACK (console.db.target_reads), as do its console reads (the signed-in user, a record's runs and tickets:
console.db.console_reads); a request that writes keeps its transaction.

These use `isolated_app` (engines not bound to a test's outer transaction) and run on both databases.
"""
import re
import sqlite3

import pytest
from sqlalchemy import event, insert

from admin_tasks.shop_schema import Customer
from console.db import console_reads, target_reads, utcnow
from tests.committed import make_committed_user
from tests.conftest import TEST_PASSWORD, csrf_token_from


@pytest.fixture
def shop(isolated_app):
    app = isolated_app()
    now = utcnow()
    with app.extensions["console_db"].target_engine.begin() as conn:
        conn.execute(insert(Customer), [{"id": 7, "email": "reader@example.org", "name": "Rita Reader",
                                         "status": "active", "email_confirmed": True, "failed_login_count": 0,
                                         "created_at": now, "updated_at": now}])
    return app


SHOWN = "re•••r@"  # the customer's email, as a lead sees it masked


def _autocommit(dbapi_connection) -> bool:
    """Whether a statement sent now runs alone: outside any transaction the connection began."""
    if hasattr(dbapi_connection, "get_autocommit"):  # pymysql
        return dbapi_connection.get_autocommit()
    if isinstance(dbapi_connection, sqlite3.Connection):  # pysqlite begins nothing itself (console.engines)
        return not dbapi_connection.in_transaction
    return dbapi_connection.autocommit is True  # psycopg


def _autocommit_of_statements(app, pages, database="target") -> list[bool]:
    """Log in as a lead, open the pages; whether each statement sent to `database` ran in autocommit."""
    dbs, seen = app.extensions["console_db"], []
    engine = dbs.target_engine if database == "target" else dbs.console_engine

    def before(conn, *_args):
        seen.append(_autocommit(conn.connection.dbapi_connection))

    client = app.test_client()
    email = make_committed_user(app, "lead")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token}).status_code == 302
    client.get(pages[0][0])  # an app's first request reflects the product's tables, on a connection of its own
    event.listen(engine, "before_cursor_execute", before)
    try:
        for path, text in pages:
            response = client.get(path)
            assert response.status_code == 200 and text in response.get_data(as_text=True), path
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def test_lookup_pages_read_the_product_without_a_transaction(shop):
    pages = [("/admin/records/customers/", SHOWN), ("/admin/records/customers/?q=reader@example.org", SHOWN),
             ("/admin/records/customers/7", SHOWN)]
    seen = _autocommit_of_statements(shop, pages)
    assert seen, "the pages sent no statement to the product database"
    assert set(seen) == {True}


def test_a_pooled_connection_comes_back_in_transactions_after_a_page(shop):
    _autocommit_of_statements(shop, [("/admin/records/customers/7", SHOWN)])
    engine = shop.extensions["console_db"].target_engine
    with engine.connect() as conn:  # the pool holds the connection the page used
        conn.exec_driver_sql("SELECT 1")
        assert not _autocommit(conn.connection.dbapi_connection)


def test_pages_read_the_console_without_a_transaction_and_give_the_connections_back(shop):
    # The signed-in user on every page, the record's runs and tickets on its page.
    pages = [("/admin/records/customers/", SHOWN), ("/admin/records/customers/7", SHOWN)]
    seen = _autocommit_of_statements(shop, pages, database="console")
    assert len(seen) >= 4, seen  # the user twice, the runs and the tickets
    dbs = shop.extensions["console_db"]
    assert set(seen) == {True}
    assert dbs.console_engine.pool.checkedout() == dbs.target_engine.pool.checkedout() == 0


@pytest.mark.parametrize("reads", [target_reads, console_reads], ids=["target", "console"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_request_that_writes_reads_inside_its_transaction(shop, method, reads):
    # A POST may rehearse a task on the target and roll it back: its reads must not leave the transaction.
    with shop.test_request_context("/", method=method):
        conn = reads()
        conn.exec_driver_sql("SELECT 1")
        autocommit = _autocommit(conn.connection.dbapi_connection)
        assert reads() is conn  # one connection for the request's reads
    assert autocommit is (method == "GET")


@pytest.mark.parametrize("reads, sessions", [(target_reads, "target"), (console_reads, "console")],
                         ids=["target", "console"])
def test_a_read_connection_gives_way_when_its_session_begins(shop, reads, sessions):
    # A GET that writes after reading (a search's audit entry) holds one connection of that database, not two:
    # threads each holding some while they wait for more could exhaust a pool.
    dbs = shop.extensions["console_db"]
    with shop.test_request_context("/"):
        conn = reads()
        conn.exec_driver_sql("SELECT 1")
        session_conn = getattr(dbs, sessions).connection()
        assert conn.closed and session_conn is not conn
        assert reads() is session_conn  # the session began: reads are in its transaction now
    assert dbs.console_engine.pool.checkedout() == dbs.target_engine.pool.checkedout() == 0


def test_a_record_page_reads_its_row_and_its_children_in_one_round_trip_on_postgresql(shop, monkeypatch):
    """On PostgreSQL the row and the records that belong to it go together (console.direct.send_all), then the
    record's runs and its tickets: one round trip for each database but the signed-in user's."""
    if shop.extensions["console_db"].target_engine.dialect.name != "postgresql":
        pytest.skip("psycopg's pipeline is PostgreSQL's: elsewhere each statement is sent alone")
    import psycopg

    trips, pipelined = [], []
    execute, pipeline = psycopg.Cursor.execute, psycopg.Connection.pipeline

    def counted_execute(cursor, query, *args, **kwargs):
        if cursor.connection._pipeline is not None:
            pipelined[-1][1].append(re.search(r"FROM\s+(\w+)", str(query)).group(1))
        else:
            trips.append((cursor.connection.info.dbname, "alone"))
        return execute(cursor, query, *args, **kwargs)

    def counted_pipeline(connection):
        pipelined.append((connection.info.dbname, []))
        trips.append((connection.info.dbname, "pipeline"))
        return pipeline(connection)

    client = shop.test_client()
    email = make_committed_user(shop, "lead")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token}).status_code == 302
    client.get("/admin/records/customers/7")  # the first request reflects the tables
    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "pipeline", counted_pipeline)
    response = client.get("/admin/records/customers/7")
    assert response.status_code == 200 and SHOWN in response.get_data(as_text=True)
    urls = shop.extensions["console_db"]
    target, console = (engine.url.database for engine in (urls.target_engine, urls.console_engine))
    assert sorted(trips) == sorted([(console, "alone"), (target, "pipeline"), (console, "pipeline")])
    assert dict(pipelined) == {target: ["customers", "orders", "email_outbox"], console: ["task_runs", "tickets"]}
