"""append_many: many entries in one statement, chained, hashed and checkpointed as appends one by one are."""
from __future__ import annotations

from sqlalchemy import select

from console.audit.batch import append_many
from console.audit.models import AuditCheckpoint, AuditEntry


def _entries(count: int, first: int = 0) -> list[dict]:
    return [{"actor": "agent@example.com", "action": "task.intent", "subject_type": "task_run",
             "subject_id": first + n, "ticket": "T-1", "reason": "bulk", "task": "unlock_account",
             "customer": "a@example.com", "outcome": "interrupted",
             "details": {"params": {"email": "a@example.com"}, "token": "never stored"}} for n in range(count)]


def test_a_batch_continues_the_chain_and_signs_the_checkpoints_that_fall_due(trail):
    made = trail(AUDIT_CHECKPOINT_EVERY=4)
    made.record(2)  # the head exists, with a checkpoint at seq 1
    session = made.dbs.console_factory()
    try:
        written = append_many(session, _entries(9))
        session.commit()
    finally:
        session.close()

    assert [entry.seq for entry in written] == list(range(3, 12))
    code, output = made.verify("--strict")
    assert code == 0 and "OK 11 entries" in output, output
    with made.engine.connect() as conn:
        signed = conn.scalars(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)).all()
        details = conn.scalar(select(AuditEntry.details).where(AuditEntry.seq == 3))
    assert signed == [1, 5, 9]  # every 4 entries, as one append each would have signed them
    assert "never stored" not in details and '"token":"[redacted]"' in details


def test_a_batch_can_start_the_trail(trail):
    made = trail()
    session = made.dbs.console_factory()
    try:
        written = append_many(session, _entries(3))
        session.commit()
    finally:
        session.close()
    assert [entry.seq for entry in written] == [1, 2, 3]
    assert made.verify()[0] == 0
