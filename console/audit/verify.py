"""`audit verify`: re-hash the whole chain in one streaming pass and hold it against the signed checkpoints.

The pass reads one consistent snapshot (REPEATABLE READ on PostgreSQL; a read transaction
on SQLite), so writers appending meanwhile are neither blocked nor mistaken for tampering.
It stops at the first bad entry and names it by seq.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from console.audit import rehash
from console.audit.chain import GENESIS
from console.audit.checkpoints import CheckpointPolicy, signature_matches
from console.audit.models import AuditCheckpoint, AuditHead, AuditVerification
from console.db import utcnow

BATCH = 20_000


@dataclass(frozen=True)
class Anchor:
    """A (seq, hash) pair kept outside the database, e.g. a line the checkpoint cron job logged."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, chain_hash = text.partition(":")
        if not seq.strip().isdigit() or len(chain_hash.strip()) != 64:
            raise ValueError(f"anchor {text!r}: expected SEQ:HASH, e.g. 1000:<64 hex digits>")
        return cls(int(seq), chain_hash.strip().lower())


@dataclass
class Verification:
    """What one verify pass found."""

    ok: bool = True
    entries: int = 0
    last_seq: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0
    checkpoint_seq: int | None = None
    checkpoint_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        if self.ok:
            return f"OK {self.entries} entries"
        return f"FAILED seq {self.first_bad_seq}: {self.problem}"


class Broken(Exception):
    """The first bad entry: its seq and what is wrong with it."""

    def __init__(self, seq: int, problem: str):
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


@contextmanager
def _snapshot(engine: Engine):
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect() as conn:
        conn = conn.execution_options(**options)
        with conn.begin():
            yield conn


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


class _Pass:
    """One verification pass; the loop in `entries` is the hot path."""

    def __init__(self, key: str, policy: CheckpointPolicy | None, checkpoints, anchors, result: Verification):
        self.key = key
        self.policy = policy
        self.result = result
        self.checkpoints = defaultdict(list)
        for row in checkpoints:
            self.checkpoints[row.seq].append(row)
        self.anchors = defaultdict(list)
        for anchor in anchors:
            self.anchors[anchor.seq].append(anchor)
        self.good_checkpoint_seq = 0

    def vouch(self, seq: int, chain_hash: str) -> None:
        """Hold entry `seq` (hash `chain_hash`) against the checkpoints and anchors for it."""
        for checkpoint in self.checkpoints.pop(seq, ()):
            self._signed(checkpoint)
            if checkpoint.hash != chain_hash:
                raise Broken(seq, f"differs from the signed checkpoint of {_when(checkpoint.created_at)}: entries "
                                  f"after seq {self.good_checkpoint_seq} were rewritten and the chain recomputed")
            self.good_checkpoint_seq = seq
            self.result.checkpoints += 1
            self.result.checkpoint_seq = seq
            if self.result.checkpoint_at is None or checkpoint.created_at > self.result.checkpoint_at:
                self.result.checkpoint_at = checkpoint.created_at
        for anchor in self.anchors.pop(seq, ()):
            if anchor.hash != chain_hash:
                raise Broken(seq, "differs from the external anchor given on the command line: the chain was "
                                  "rewritten")

    def _signed(self, checkpoint) -> None:
        if not signature_matches(self.key, checkpoint.seq, checkpoint.hash, checkpoint.created_at, checkpoint.mac):
            raise Broken(checkpoint.seq, f"the checkpoint of {_when(checkpoint.created_at)} for this entry has a "
                                         "bad signature: it was forged or altered, e.g. by someone who recomputed "
                                         "the chain without CONSOLE_AUDIT_KEY (or the key has changed since)")

    def entries(self, rows, hashing: bool, recheck) -> tuple[int, str]:
        """Check every entry in seq order; return the last seq and hash.

        Each row is (seq, prev_hash, hash, proof): with `hashing`, proof is the entry's canonical
        bytes to hash here; otherwise it says whether the content matched its hash. A row that
        does not match is re-hashed in Python by `recheck(seq)` before it is called modified.
        """
        expected, prev, prev_prev = 1, GENESIS, None
        pending = self.checkpoints.keys() | self.anchors.keys()
        sha256 = hashlib.sha256
        for seq, prev_hash, chain_hash, proof in rows:
            if seq != expected:
                if seq > expected:
                    raise Broken(expected, f"missing: the trail jumps from seq {expected - 1} to seq {seq} "
                                           "(deleted)")
                raise Broken(seq, "appears more than once (an entry was inserted)")
            own = sha256(proof).hexdigest() == chain_hash if hashing else proof
            if not own:
                own = recheck(seq)
            if prev_hash != prev:
                self._unchained(seq, prev_hash, prev_prev, own)
            if not own:
                raise Broken(seq, "modified: its content no longer matches its hash")
            if seq in pending:
                self.vouch(seq, chain_hash)
            prev_prev, prev = prev, chain_hash
            expected += 1
        return expected - 1, prev

    @staticmethod
    def _unchained(seq: int, prev_hash: str, prev_prev: str | None, self_consistent: bool) -> None:
        if seq == 1:
            raise Broken(1, "does not start from the genesis hash (the beginning of the trail was replaced)")
        if prev_hash == prev_prev:
            raise Broken(seq - 1, f"inserted: seq {seq} chains directly to seq {seq - 2}, skipping this entry")
        if self_consistent:
            raise Broken(seq - 1, f"rewritten: its hash changed, but seq {seq} still chains to its old hash")
        raise Broken(seq, f"out of place or modified: it does not chain to seq {seq - 1} and its content does not "
                          "match its hash")

    def tail(self, last_seq: int, last_hash: str, head) -> None:
        """What lies after the last entry: checkpoints or a head that vouch for more."""
        beyond = sorted(self.checkpoints)
        if beyond:
            checkpoint = self.checkpoints[beyond[0]][0]
            self._signed(checkpoint)
            raise Broken(last_seq + 1, f"missing: the trail ends at seq {last_seq}, but the signed checkpoint of "
                                       f"{_when(checkpoint.created_at)} vouches for seq {checkpoint.seq} "
                                       "(the tail was deleted)")
        if self.anchors:
            raise Broken(last_seq + 1, f"missing: the trail ends at seq {last_seq}, but the external anchor vouches "
                                       f"for seq {min(self.anchors)} (the tail was deleted)")
        if head is None:
            if last_seq:
                raise Broken(last_seq + 1, "the head row is missing: entries after this one may have been deleted")
            return
        if head.seq > last_seq:
            raise Broken(last_seq + 1, f"missing: the head row records seq {head.seq}, but the trail ends at seq "
                                       f"{last_seq} (the tail was deleted)")
        if head.seq < last_seq:
            raise Broken(head.seq + 1, f"beyond the head: the head row records seq {head.seq} (written outside the "
                                       "console, or the head was rewound)")
        if head.hash != last_hash:
            raise Broken(last_seq, "the head row records a different hash for this entry (rewritten)")

    def warnings(self, checkpoint_rows, last_seq: int, now: datetime) -> list[str]:
        """Signs of deleted checkpoints or a checkpoint job that is not running; not proof of tampering."""
        found = []
        if self.policy is None:
            return found
        seqs = sorted({row.seq for row in checkpoint_rows if row.seq <= last_seq})
        gaps = [(a, b) for a, b in zip([0] + seqs, seqs + [last_seq]) if b - a > self.policy.every]
        if gaps:
            a, b = gaps[0]
            more = f" (and {len(gaps) - 1} more such gaps)" if len(gaps) > 1 else ""
            found.append(f"no signed checkpoint between seq {a} and seq {b}, more than {self.policy.every} entries "
                         f"apart{more}: checkpoints were deleted, or entries were written without CONSOLE_AUDIT_KEY")
        newest = max((row.created_at for row in checkpoint_rows), default=None)
        slack = self.policy.interval + timedelta(minutes=15)
        if newest is not None and now - newest > slack:
            found.append(f"the newest signed checkpoint is from {_when(newest)}: run `support-console audit "
                         "checkpoint` from cron at least hourly; if it does run, recent checkpoints were deleted")
        return found


def verify_trail(engine: Engine, key: str, *, policy: CheckpointPolicy | None = None, anchors=(),
                 batch: int = BATCH) -> Verification:
    """Verify the whole trail in the console database behind `engine`."""
    started = time.perf_counter()
    try:
        result = _verify(engine, key, policy, anchors, batch, fast=True)
    except (DBAPIError, engine.dialect.loaded_dbapi.Error):
        # The SQL form refuses a column of an unexpected type (say, a BLOB put in by hand):
        # go again in plain Python, which reports that entry as modified.
        result = _verify(engine, key, policy, anchors, batch, fast=False)
    result.seconds = time.perf_counter() - started
    return result


def _verify(engine: Engine, key: str, policy, anchors, batch: int, *, fast: bool) -> Verification:
    result = Verification()
    with _snapshot(engine) as conn:
        checkpoint_rows = conn.execute(
            select(AuditCheckpoint.id, AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.created_at,
                   AuditCheckpoint.mac).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
        ).all()
        head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
        check = _Pass(key, policy, checkpoint_rows, anchors, result)
        try:
            check.vouch(0, GENESIS)
            rows, hashing = (fast and rehash.fast_rows(conn, batch)) or rehash.python_rows(conn, batch)
            try:
                last_seq, last_hash = check.entries(rows, hashing, lambda seq: rehash.recheck(conn, seq))
            finally:
                rows.close()
            check.tail(last_seq, last_hash, head)
            result.entries = result.last_seq = last_seq
            result.warnings = check.warnings(checkpoint_rows, last_seq, utcnow())
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
