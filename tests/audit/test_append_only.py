"""Migration 0003: triggers refuse UPDATE and DELETE on the trail; the head row still moves."""
import pytest
from sqlalchemy.exc import DBAPIError


@pytest.fixture
def recorded(trail):
    made = trail()
    made.record(3)
    return made


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET reason = 'edited' WHERE seq = 2",
    "DELETE FROM audit_entries WHERE seq = 2",
    "DELETE FROM audit_entries",
    "UPDATE audit_checkpoints SET hash = 'x'",
    "DELETE FROM audit_checkpoints",
])
def test_changing_the_trail_is_refused(recorded, statement):
    entries, checkpoints = recorded.count(), recorded.count("audit_checkpoints")
    reason = recorded.entry(2).reason
    with pytest.raises(DBAPIError, match="append-only"):
        recorded.sql(statement)
    assert recorded.count() == entries == 3
    assert recorded.count("audit_checkpoints") == checkpoints
    assert recorded.entry(2).reason == reason


def test_truncate_is_refused_on_postgresql(recorded):
    if recorded.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"):
        recorded.sql("TRUNCATE audit_entries")
    assert recorded.count() == 3


def test_the_head_row_stays_updatable_so_appends_go_on(recorded):
    recorded.record(2)
    assert recorded.sql("SELECT seq FROM audit_head WHERE id = 1")[0][0] == 5
    assert recorded.verify()[0] == 0


def test_the_orm_cannot_delete_an_entry_either(recorded):
    from console.audit.models import AuditEntry

    session = recorded.dbs.console_factory()
    try:
        session.delete(session.get(AuditEntry, 1))
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
        session.rollback()
    finally:
        session.close()
    assert recorded.count() == 3
