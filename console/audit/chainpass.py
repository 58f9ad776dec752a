"""One pass over the audit chain: the checks every entry is held to, in order, and what the pass found.

`verify.py` runs one pass over the whole trail; `parallel.py` runs one per range of seqs in worker
processes. Both stand on this module, so neither imports the other's internals.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from console.audit.checkpoints import CheckpointPolicy, signature_matches
from console.audit.coverage import count_gap, when as _when
from console.audit.models import GENESIS


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
def snapshot(engine: Engine):
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect() as conn:
        conn = conn.execution_options(**options)
        with conn.begin():
            yield conn


class ChainPass:
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
