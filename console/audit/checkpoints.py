"""Signed checkpoints: HMAC statements that the chain reached (seq, hash) at a given time.

Anyone with write access to the database can recompute a hash chain; nobody without
CONSOLE_AUDIT_KEY can sign a checkpoint for it. The key lives in the app's configuration
only, never in the database.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.audit.chain import GENESIS
from console.audit.models import AuditCheckpoint, AuditHead
from console.db import utcnow

DEFAULT_EVERY = 1000
DEFAULT_MINUTES = 60
_LABEL = "support-console audit checkpoint v1"


@dataclass(frozen=True)
class CheckpointPolicy:
    """When append signs a checkpoint: every `every` entries, or when the last is `interval` old."""

    key: str
    every: int = DEFAULT_EVERY
    interval: timedelta = timedelta(minutes=DEFAULT_MINUTES)


def policy_from_config(config) -> CheckpointPolicy | None:
    key = config.get("CONSOLE_AUDIT_KEY") if config else None
    if not key:
        return None
    return CheckpointPolicy(
        key=key,
        every=int(config.get("AUDIT_CHECKPOINT_EVERY", DEFAULT_EVERY)),
        interval=timedelta(minutes=int(config.get("AUDIT_CHECKPOINT_MINUTES", DEFAULT_MINUTES))),
    )


def policy_for(session: Session) -> CheckpointPolicy | None:
    """The policy of the app that made this session (set by init_app), else of the current app."""
    config = session.info.get("console_config")
    if config is None and has_app_context():
        config = current_app.config
    return policy_from_config(config)


def sign(key: str, seq: int, chain_hash: str, created_at: datetime) -> str:
    """HMAC-SHA256 over (seq, hash, created_at)."""
    message = f"{_LABEL}|{seq}|{chain_hash}|{created_at.isoformat(timespec='microseconds')}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(key: str, seq: int, chain_hash: str, created_at: datetime, mac: str) -> bool:
    return hmac.compare_digest(sign(key, seq, chain_hash, created_at), mac or "")


def _add(session: Session, seq: int, chain_hash: str, created_at: datetime, key: str) -> AuditCheckpoint:
    checkpoint = AuditCheckpoint(seq=seq, hash=chain_hash, created_at=created_at,
                                 mac=sign(key, seq, chain_hash, created_at))
    session.add(checkpoint)
    return checkpoint


def checkpoint_if_due(session: Session, seq: int, chain_hash: str, now: datetime,
                      policy: CheckpointPolicy) -> AuditCheckpoint | None:
    """Sign the entry just appended when a checkpoint is due; append calls this holding the head lock."""
    last = session.connection().execute(_LAST).first()
    if last is None or seq - last.seq >= policy.every or now - last.created_at >= policy.interval:
        checkpoint = _add(session, seq, chain_hash, now, policy.key)
        session.flush()
        return checkpoint
    return None


_LAST = select(AuditCheckpoint.seq, AuditCheckpoint.created_at).order_by(AuditCheckpoint.id.desc()).limit(1)


def write_checkpoint(session: Session, key: str) -> AuditCheckpoint:
    """Sign the chain's head as it is now, even when nothing was appended (the hourly job); the caller commits."""
    # The same lock as append, so the head read here is the committed tip and checkpoints
    # are written in seq order.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    seq, chain_hash = (head.seq, head.hash) if head else (0, GENESIS)
    checkpoint = _add(session, seq, chain_hash, utcnow(), key)
    session.flush()
    return checkpoint


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))
