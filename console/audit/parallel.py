"""Verifying a long SQLite trail on several cores: each process re-hashes one range of seqs.

SQLite builds every entry's canonical text in C, but hashing and the checks run in Python,
one core's worth. Past MIN_ENTRIES, verify splits [1, last seq] into ranges and checks each
in a spawned process. Each range starts from the stored hashes of the two entries before it,
so the ranges together check exactly the links one pass checks, and report the same words.
Entries up to the last seq of the main snapshot never change (the trail is append-only), so
each worker's own snapshot holds the same rows.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from console.audit import rehash
from console.audit.chainpass import Broken, ChainPass, Verification, snapshot
from console.audit.models import GENESIS, AuditEntry
from console.engines import make_engine

MIN_ENTRIES = 500_000  # below this, starting processes costs about what it saves
MAX_WORKERS = 4


@dataclass(frozen=True)
class Signed:
    """A checkpoint row that can cross to a worker process."""

    id: int
    seq: int
    hash: str
    created_at: datetime
    mac: str


@dataclass
class RangeOutcome:
    problem: tuple[int, str] | None
    checkpoints: int
    checkpoint_seq: int | None
    checkpoint_at: datetime | None
    last_hash: str | None


def worker_count(dialect: str, last_seq: int, requested: int | None = None) -> int:
    if dialect != "sqlite":
        return 1  # PostgreSQL already hashes in parallel workers of its own
    if requested is not None:
        return max(1, requested)
    if last_seq < MIN_ENTRIES:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def split(last_seq: int, workers: int) -> list[tuple[int, int]]:
    size = max(1, -(-last_seq // workers))
    return [(low, min(low + size - 1, last_seq)) for low in range(1, last_seq + 1, size)]


def _start(conn, low: int) -> tuple[int, str | None, str | None]:
    if low == 1:
        return 1, GENESIS, None
    hashes = dict(conn.execute(select(AuditEntry.seq, AuditEntry.hash)
                               .where(AuditEntry.seq.in_([low - 1, low - 2]))).all())
    return low, hashes.get(low - 1), GENESIS if low == 2 else hashes.get(low - 2)


def check_range(url: str, key: str, policy, checkpoints, anchors, low: int, high: int, batch: int) -> RangeOutcome:
    """Verify entries low..high (in a worker process)."""
    engine = make_engine(url)
    result = Verification()
    try:
        with snapshot(engine) as conn:
            check = ChainPass(key, policy, checkpoints, anchors, result)
            check.good_checkpoint_seq = max((c.seq for c in checkpoints if c.seq < low), default=0)
            last_hash = None
            try:
                rows, hashing = rehash.fast_rows(conn, batch, (low, high))
                try:
                    last_seq, last_hash = check.entries(rows, hashing, lambda seq: rehash.recheck(conn, seq),
                                                        start=_start(conn, low))
                finally:
                    rows.close()
                if last_seq < high:
                    following = conn.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.seq > last_seq))
                    raise Broken(last_seq + 1, f"missing: the trail jumps from seq {last_seq} to seq {following} "
                                               "(deleted)")
                problem = None
            except Broken as broken:
                problem = (broken.seq, broken.problem)
    finally:
        engine.dispose()
    return RangeOutcome(problem, result.checkpoints, result.checkpoint_seq, result.checkpoint_at, last_hash)


def check_ranges(engine, key: str, policy, check, checkpoint_rows, anchors, last_seq: int, workers: int,
                 batch: int) -> str | None:
    """Verify entries 1..last_seq in `workers` processes; raise the first Broken, else return the last hash.

    None means processes could not be started here: the caller then verifies in one pass.
    """
    url = engine.url.render_as_string(hide_password=False)
    signed = [Signed(row.id, row.seq, row.hash, row.created_at, row.mac) for row in checkpoint_rows]
    spawn = multiprocessing.get_context("spawn")  # safe in a threaded server, unlike fork
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            futures = [pool.submit(check_range, url, key, policy, signed, list(anchors), low, high, batch)
                       for low, high in split(last_seq, workers)]
            outcomes = [future.result() for future in futures]
    except (BrokenProcessPool, OSError):
        return None
    problems = sorted((outcome.problem[0], index) for index, outcome in enumerate(outcomes) if outcome.problem)
    counted = outcomes[:problems[0][1] + 1] if problems else outcomes  # what one pass would have seen
    result = check.result
    for outcome in counted:
        result.checkpoints += outcome.checkpoints
        if outcome.checkpoint_seq is not None:
            result.checkpoint_seq = max(result.checkpoint_seq or 0, outcome.checkpoint_seq)
            result.checkpoint_at = max(filter(None, (result.checkpoint_at, outcome.checkpoint_at)))
    if problems:
        raise Broken(*outcomes[problems[0][1]].problem)
    for seq in [seq for seq in check.checkpoints if seq <= last_seq]:
        del check.checkpoints[seq]
    for seq in [seq for seq in check.anchors if seq <= last_seq]:
        del check.anchors[seq]
    return outcomes[-1].last_hash
