"""Signed checkpoints while the console is served, so that an idle trail is still signed hourly.

`append` signs a checkpoint when one is due, but only when something is appended. A console
nobody uses appends nothing, and the end of its trail would stay unsigned. `support-console
serve` and `demo` therefore run this keeper: once a minute it signs the head if the newest
checkpoint is older than the policy's interval (60 minutes by default).

It runs in each gunicorn worker, started after the fork (never in the master, whose connections
would cross into the workers it forks), on an engine of its own without a pool. Several workers
and hosts may each run one: the freshness check is made holding the head lock, so one of them
signs and the others find a fresh checkpoint.
The cron job of docs/AUDIT.md is still how anchors get kept off the database host.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from console.audit.checkpoints import CheckpointPolicy, write_checkpoint
from console.audit.models import AuditCheckpoint
from console.db import utcnow
from console.engines import make_engine
from console.ticking import Ticker

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0


def sign_if_stale(engine, policy: CheckpointPolicy, now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign the head when no checkpoint is newer than the policy's interval; return it, or None."""
    with Session(engine) as session:
        made = write_checkpoint(session, policy.key, unless_newer_than=(now or utcnow()) - policy.interval)
        if made is None:
            session.rollback()
            return None
        session.commit()
        return made


class CheckpointKeeper(Ticker):
    """A daemon thread that calls sign_if_stale at start and then every `tick` seconds until stopped."""

    name = "audit-checkpoint-keeper"
    failure = "could not sign an audit checkpoint"

    def __init__(self, url: str, policy: CheckpointPolicy, *, tick: float = TICK_SECONDS):
        # Always the write lock on SQLite: the check and the checkpoint are one write transaction.
        self.engine = make_engine(url, write_lock=lambda _conn: True, poolclass=NullPool)
        self.policy = policy
        super().__init__(tick)

    def step(self) -> None:
        made = sign_if_stale(self.engine, self.policy)
        if made is not None:
            log.info("signed audit checkpoint at seq %s", made.seq)

    def closed(self) -> None:
        self.engine.dispose()
