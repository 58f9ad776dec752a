"""`audit verify`: re-hash the whole chain in one streaming pass and hold it against the signed checkpoints.

The pass reads one consistent snapshot (REPEATABLE READ on PostgreSQL; a read transaction
on SQLite), so writers appending meanwhile are neither blocked nor mistaken for tampering.
It stops at the first bad entry and names it by seq. docs/AUDIT.md says what it can and
cannot detect.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from console.audit import parallel, rehash
from console.audit.chainpass import Broken, ChainPass, Verification, snapshot
from console.audit.checkpoints import CheckpointPolicy
from console.audit.coverage import first_failure, uncovered
from console.audit.models import GENESIS, AuditCheckpoint, AuditEntry, AuditHead, AuditVerification
from console.db import utcnow

BATCH = 20_000


@dataclass(frozen=True)
class Anchor:
    """A (seq, hash) pair kept outside the database: a line the checkpoint job printed."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, chain_hash = text.strip().partition(":")
        chain_hash = chain_hash.strip().lower()
        if not (seq.isascii() and seq.isdigit()) or len(chain_hash) != 64 or any(c not in "0123456789abcdef" for c in chain_hash):
            raise ValueError(f"anchor {text[:80]!r}: expected SEQ:HASH, e.g. 1000:<64 hex digits>")
        return cls(int(seq), chain_hash)


def verify_trail(engine: Engine, key: str, *, policy: CheckpointPolicy | None = None, anchors=(),
                 strict: bool = False, workers: int | None = None, batch: int = BATCH) -> Verification:
    """Verify the whole trail in the console database behind `engine`.

    With `strict`, a checkpoint missing in time, or none at all under a non-empty trail, fails
    the pass instead of warning (coverage.py): use it when the hourly checkpoint job runs, as it
    then bounds what a truncation can hide to an hour.
    `workers` overrides how many processes re-hash a long SQLite trail (see parallel.py).
    """
    started = time.perf_counter()
    try:
        try:
            result = _verify(engine, key, policy, anchors, strict, batch, workers, fast=True, overlap=True)
        except _Inexact:  # content mismatches somewhere: one exact pass names the first problem
            result = _verify(engine, key, policy, anchors, strict, batch, workers, fast=True)
    except (DBAPIError, engine.dialect.loaded_dbapi.Error):
        # The SQL form refuses a column of an unexpected type (say, a BLOB put in by hand):
        # go again in plain Python, which reports that entry as modified.
        result = _verify(engine, key, policy, anchors, strict, batch, 1, fast=False)
    result.seconds = time.perf_counter() - started
    return result


class _Inexact(Exception):
    """An overlapped pass assumed every entry's content matched, and some did not."""


def _verify(engine: Engine, key: str, policy, anchors, strict: bool, batch: int, workers: int | None, *,
            fast: bool, overlap: bool = False) -> Verification:
    result = Verification()
    with snapshot(engine) as conn:
        checkpoint_rows = conn.execute(
            select(AuditCheckpoint.id, AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.created_at,
                   AuditCheckpoint.mac).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
        ).all()
        head = conn.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.checkpoint_seq, AuditHead.checkpoint_at)
                            .where(AuditHead.id == 1)).first()
        check = ChainPass(key, policy, checkpoint_rows, anchors, result)
        try:
            check.vouch(0, GENESIS)
            last_seq = conn.scalar(select(func.max(AuditEntry.seq))) or 0
            processes = parallel.worker_count(engine.dialect.name, last_seq, workers) if fast else 1
            last_hash = None
            if processes > 1 and last_seq:
                last_hash = parallel.check_ranges(engine, key, policy, check, checkpoint_rows, anchors, last_seq,
                                                  processes, batch)
            if last_hash is None:
                rows, hashing = ((fast and rehash.fast_rows(conn, batch, overlap=overlap))
                                 or rehash.python_rows(conn, batch))
                try:
                    last_seq, last_hash = check.entries(rows, hashing, lambda seq: rehash.recheck(conn, seq))
                except Broken:
                    if not rehash.exact(rows):
                        raise _Inexact() from None
                    raise
                finally:
                    rows.close()
                if not rehash.exact(rows):
                    raise _Inexact()
            check.tail(last_seq, last_hash, head)
            found = uncovered(policy, last_seq, head, checkpoint_rows, utcnow())
            failure = first_failure(found, strict)
            if failure is not None:
                raise Broken(failure.seq, failure.problem)
            result.entries = result.last_seq = last_seq
            result.warnings = [item.problem for item in found]
        except Broken as broken:
            result.ok = False
            result.first_bad_seq = broken.seq
            result.problem = broken.problem
            result.last_seq = head.seq if head else 0
    return result


def record_verification(session: Session, result: Verification, *, source: str = "cli") -> AuditVerification:
    """Keep the result for the home page; the caller commits."""
    row = AuditVerification(
        checked_at=utcnow(), ok=result.ok, entries=result.entries, last_seq=result.last_seq,
        checkpoint_seq=result.checkpoint_seq, checkpoint_at=result.checkpoint_at, first_bad_seq=result.first_bad_seq,
        problem=result.problem, warnings="\n".join(result.warnings), seconds=round(result.seconds, 3),
        source=source[:254],
    )
    session.add(row)
    session.flush()
    return row


def latest_verification(session: Session) -> AuditVerification | None:
    return session.scalar(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1))
