"""The fuzzers' own checks: a snapshot taken after a write inside an example sees it, whatever it reuses."""
from sqlalchemy import insert

from console.deflection.models import Ticket
from tests.security._invariants import Snapshot, connections, rolled_back


def test_a_snapshot_sees_a_write_and_its_rollback(dbs):
    console_conn = connections(dbs)[0]
    baseline = Snapshot(dbs, eager=True)
    assert baseline.differences(Snapshot(dbs), "console") == []
    with rolled_back(dbs):
        assert baseline.differences(Snapshot(dbs), "console") == []
        console_conn.execute(insert(Ticket.__table__).values(ref="T-SNAP", outcome="open"))
        assert [line.split(":")[0] for line in baseline.differences(Snapshot(dbs), "console")] == ["console.tickets"]
    assert baseline.differences(Snapshot(dbs), "console") == []
