"""A committed trail on its own databases, and raw SQL on it as an attacker with database rights has."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from console.audit.chain import GENESIS, digest, record_event, timestamp
from console.audit.models import AuditEntry

TRIGGERS = {
    "postgresql": [f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
                   for table in ("audit_entries", "audit_checkpoints") for name in ("append_only", "no_truncate")],
    "sqlite": [f"DROP TRIGGER IF EXISTS {table}_no_{verb}"
               for table in ("audit_entries", "audit_checkpoints") for verb in ("update", "delete")],
}


class Trail:
    """An isolated app whose audit trail is really committed."""

    def __init__(self, app):
        self.app = app
        self.dbs = app.extensions["console_db"]
        self.engine = self.dbs.console_engine
        self.dialect = self.engine.dialect.name

    def record(self, count: int, **fields) -> None:
        session = self.dbs.console_factory()
        try:
            for n in range(count):
                values = {"actor": "agent@example.com", "action": "task.run", "task": "unlock_account",
                          "ticket": f"T-{n}", "reason": f"event {n}", "customer": "locked@example.com",
                          "outcome": "succeeded",
                          "details": {"params": {"email": "locked@example.com"},
                                      "changes": [{"table": "customers", "key": {"id": n},
                                                   "before": {"status": "locked"}, "after": {"status": "active"}}]}}
                values.update(fields)
                record_event(session, **values)
        finally:
            session.close()

    def sql(self, statement: str, **params):
        """Run raw SQL and commit it (what an attacker with database rights can do)."""
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else result.rowcount

    def drop_triggers(self) -> None:
        for statement in TRIGGERS[self.dialect]:
            self.sql(statement)

    def entry(self, seq: int):
        """Entry `seq` with typed columns (created_at as a datetime on both databases)."""
        with self.engine.connect() as conn:
            return conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq == seq)).one()

    def rehash(self, from_seq: int, *, head: bool = True) -> dict[int, str]:
        """Recompute the chain from `from_seq` on, as anyone can without the key; return the new hashes."""
        prev = self.entry(from_seq - 1).hash if from_seq > 1 else GENESIS
        with self.engine.connect() as conn:
            rows = conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq >= from_seq)
                                .order_by(AuditEntry.seq)).all()
        made = {}
        for row in rows:
            fields = {name: getattr(row, name) for name in ("seq", "actor", "action", "subject_type", "subject_id",
                                                            "ticket", "reason", "task", "customer", "outcome",
                                                            "details")}
            made[row.seq] = digest(prev, created_at=timestamp(row.created_at), **fields)
            self.sql("UPDATE audit_entries SET prev_hash = :prev, hash = :hash WHERE seq = :seq",
                     prev=prev, hash=made[row.seq], seq=row.seq)
            prev = made[row.seq]
        if head:
            self.sql("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1", seq=rows[-1].seq, hash=prev)
        return made

    def shift(self, after: int, by: int) -> None:
        """Renumber every entry after seq `after` by `by`, in two steps so the primary key never clashes."""
        self.sql("UPDATE audit_entries SET seq = -(seq + :by) WHERE seq > :after", by=by, after=after)
        self.sql("UPDATE audit_entries SET seq = -seq WHERE seq < 0")

    def count(self, table: str = "audit_entries") -> int:
        return self.sql(f"SELECT COUNT(*) FROM {table}")[0][0]

    def verify(self, *args: str):
        """Run `support-console audit verify`; return (exit code, output)."""
        from console.audit.cli import group

        result = self.app.test_cli_runner().invoke(group, ["verify", *args], catch_exceptions=False)
        return result.exit_code, result.output

    def first_bad_seq(self, *args: str) -> int | None:
        code, output = self.verify(*args)
        match = re.search(r"^FAILED seq (\d+):", output, re.MULTILINE)
        assert (code == 1) == bool(match), output
        return int(match.group(1)) if match else None


@pytest.fixture
def trail(isolated_app):
    """make(**config) -> Trail on brand-new databases (checkpoints every 10 entries unless told)."""

    def make(**config) -> Trail:
        config.setdefault("AUDIT_CHECKPOINT_EVERY", 10)
        return Trail(isolated_app(**config))

    return make
