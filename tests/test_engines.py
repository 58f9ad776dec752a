"""console.engines: pooled PostgreSQL connections, pinged only when their server ended them or they sat idle.

A ping on every checkout was a round trip per connection per page. SQLite has no server to lose,
so these run on PostgreSQL only (TEST_DATABASE_URL).
"""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from console import engines


@pytest.fixture
def server_engine(database_urls):
    url = database_urls["console"]
    if url.startswith("sqlite"):
        pytest.skip("SQLite has no server connection to lose")
    engine = engines.make_engine(url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(database_urls, pid: int) -> None:
    killer = create_engine(database_urls["console"])
    with killer.connect() as conn:  # waits until the backend is gone
        assert conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()
    killer.dispose()


def test_a_connection_back_from_a_request_moments_ago_is_not_pinged(server_engine, monkeypatch):
    pings = []
    monkeypatch.setattr(server_engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
    first = _backend(server_engine)
    assert _backend(server_engine) == first and pings == []
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(server_engine) == first and len(pings) == 1


def test_a_connection_the_server_ended_moments_ago_is_replaced_before_the_request_uses_it(server_engine,
                                                                                          database_urls):
    dropped = _backend(server_engine)
    _terminate(database_urls, dropped)
    assert _backend(server_engine) != dropped


@pytest.mark.parametrize("idle", [True, False])
def test_a_silently_lost_connection_is_replaced_once_it_sat_idle(server_engine, database_urls, monkeypatch, idle):
    dropped = _backend(server_engine)
    _terminate(database_urls, dropped)
    monkeypatch.setattr(engines, "_server_said_something", lambda connection: False)  # a network that dropped it
    if idle:
        monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert _backend(server_engine) != dropped
    else:
        with pytest.raises(OperationalError):  # the check is what replaces it: without a ping it is handed out
            _backend(server_engine)
