"""`audit verify`: re-hash the whole chain in one streaming pass and hold it against the signed checkpoints.

The pass reads one consistent snapshot (REPEATABLE READ on PostgreSQL; a read transaction
on SQLite), so writers appending meanwhile are neither blocked nor mistaken for tampering.
It stops at the first bad entry and names it by seq. docs/AUDIT.md says what it can and
cannot detect.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from console.audit import parallel, rehash
from console.audit.chain import GENESIS
from console.audit.checkpoints import CheckpointPolicy, signature_matches
from console.audit.coverage import count_gap, first_failure, uncovered, when as _when
from console.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditVerification
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
        self.signed_seqs = sorted(self.checkpoints)
        self.gap_at = self._first_gap()
        self.good_checkpoint_seq = 0

    def _first_gap(self) -> int | None:
        # append signs a checkpoint at least every `every` entries, so checkpoints further apart
        # than that mean some were deleted (to hide a rewritten stretch of the chain).
        if self.policy is None:
            return None
        every = self.policy.every
        for low, high in zip([0] + self.signed_seqs, self.signed_seqs):
            if high - low > every:
                return low + every
        return None

    def _gap(self, seq: int, after: int, until: str) -> Broken:
        return Broken(seq, count_gap(self.policy.every, after, until))

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
                raise Broken(seq, "differs from the anchor given with --anchor: the chain was rewritten")
        if seq == self.gap_at:
            following = min(s for s in self.signed_seqs if s > seq)
            raise self._gap(seq, self.good_checkpoint_seq, f"until seq {following}")

    def _signed(self, checkpoint) -> None:
        if not signature_matches(self.key, checkpoint.seq, checkpoint.hash, checkpoint.created_at, checkpoint.mac):
            raise Broken(checkpoint.seq, f"the checkpoint of {_when(checkpoint.created_at)} for this entry has a "
                                         "bad signature: it was forged or altered, e.g. by someone who recomputed "
                                         "the chain without CONSOLE_AUDIT_KEY (or the key has changed since)")

    def entries(self, rows, hashing: bool, recheck, start=(1, GENESIS, None)) -> tuple[int, str]:
        """Check every entry in seq order; return the last seq and hash.

        Each row is (seq, prev_hash, hash, proof): with `hashing`, proof is the entry's canonical
        bytes to hash here; otherwise it says whether the content matched its hash. A row that
        does not match is re-hashed in Python by `recheck(seq)` before it is called modified.
        `start` is (first seq, hash of the one before, hash of the one before that).
        """
        expected, prev, prev_prev = start
        pending = self.checkpoints.keys() | self.anchors.keys() | ({self.gap_at} if self.gap_at else set())
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
        """What lies after the last entry: checkpoints, anchors or a head that vouch for more."""
        if self.checkpoints:
            checkpoint = self.checkpoints[min(self.checkpoints)][0]
            self._signed(checkpoint)
            raise Broken(last_seq + 1, f"missing: the trail ends at seq {last_seq}, but the signed checkpoint of "
                                       f"{_when(checkpoint.created_at)} vouches for seq {checkpoint.seq} "
                                       "(the tail was deleted)")
        if self.anchors:
            raise Broken(last_seq + 1, f"missing: the trail ends at seq {last_seq}, but the --anchor vouches "
                                       f"for seq {min(self.anchors)} (the tail was deleted)")
        if head is None:
            if last_seq:
                raise Broken(last_seq + 1, "the head row is missing: entries after this one may have been deleted")
        elif head.seq > last_seq:
            raise Broken(last_seq + 1, f"missing: the head row records seq {head.seq}, but the trail ends at seq "
                                       f"{last_seq} (the tail was deleted)")
        elif head.seq < last_seq:
            raise Broken(head.seq + 1, f"beyond the head: the head row records seq {head.seq} (written outside the "
                                       "console, or the head was rewound)")
        elif head.hash != last_hash:
            raise Broken(last_seq, "the head row records a different hash for this entry (rewritten)")


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
    with _snapshot(engine) as conn:
        checkpoint_rows = conn.execute(
            select(AuditCheckpoint.id, AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.created_at,
                   AuditCheckpoint.mac).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
        ).all()
        head = conn.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.checkpoint_seq, AuditHead.checkpoint_at)
                            .where(AuditHead.id == 1)).first()
        check = _Pass(key, policy, checkpoint_rows, anchors, result)
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
