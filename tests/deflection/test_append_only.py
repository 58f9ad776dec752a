"""Migration 0007: ticket events are append-only at the database, like the audit trail."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from console.deflection.tickets import add_ticket_event


@pytest.fixture
def noted(isolated_app):
    """A committed ticket with an escalation note, on databases of its own."""
    app = isolated_app()
    session = app.extensions["console_db"].console_factory()
    with app.app_context():
        add_ticket_event(session, "T-note", "escalated", actor="agent@example.com", escalation_class="knowledge",
                         note="what the agent wrote")
        session.commit()
    session.close()
    return app.extensions["console_db"].console_engine


def sql(engine, statement: str):
    with engine.begin() as conn:
        result = conn.execute(text(statement))
        return result.all() if result.returns_rows else result.rowcount


@pytest.mark.parametrize("statement", [
    "UPDATE ticket_events SET note = 'rewritten later'",
    "DELETE FROM ticket_events",
])
def test_changing_an_event_is_refused(noted, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        sql(noted, statement)
    assert sql(noted, "SELECT note FROM ticket_events") == [("what the agent wrote",)]


def test_truncate_is_refused_on_postgresql(noted):
    if noted.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"):
        sql(noted, "TRUNCATE ticket_events CASCADE")
    assert sql(noted, "SELECT COUNT(*) FROM ticket_events") == [(1,)]


def test_the_ticket_itself_stays_updatable(noted):
    assert sql(noted, "UPDATE tickets SET category = 'orders'") == 1
