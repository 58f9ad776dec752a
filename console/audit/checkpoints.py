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
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from console.audit.models import GENESIS, AuditCheckpoint, AuditHead
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


_HEAD = AuditHead.__table__
_CHECKPOINTS = AuditCheckpoint.__table__
_INSERT = insert(_CHECKPOINTS)
_LAST = select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.created_at).order_by(_CHECKPOINTS.c.id.desc()).limit(1)
# The same lock as append (an UPDATE of the head), returning the tip it holds.
_LOCK_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq).returning(_HEAD.c.seq, _HEAD.c.hash)
_NOTE = update(_HEAD).where(_HEAD.c.id == 1)


def is_due(policy: CheckpointPolicy, seq: int, now: datetime, last_seq: int | None,
           last_at: datetime | None) -> bool:
    """Whether entry `seq`, appended at `now`, must be signed, given the newest checkpoint (None: none yet)."""
    return last_seq is None or last_at is None or seq - last_seq >= policy.every or now - last_at >= policy.interval


def newest_checkpoint(conn) -> tuple[int | None, datetime | None]:
    """(seq, created_at) of the newest checkpoint, for a head row being created; (None, None) when none."""
    last = conn.execute(_LAST).first()
    return (last.seq, last.created_at) if last is not None else (None, None)


def add_checkpoint(conn, key: str, seq: int, chain_hash: str, created_at: datetime,
                   note_on_head: bool = True) -> AuditCheckpoint:
    """Insert a signed checkpoint (the caller holds the head lock and commits); return a detached record.

    `note_on_head=False` when the caller writes the head's checkpoint columns itself.
    """
    values = {"seq": seq, "hash": chain_hash, "created_at": created_at,
              "mac": sign(key, seq, chain_hash, created_at)}
    conn.execute(_INSERT, values)
    if note_on_head:
        conn.execute(_NOTE, {"checkpoint_seq": seq, "checkpoint_at": created_at})
    return AuditCheckpoint(**values)


def write_checkpoint(session: Session, key: str, *, unless_newer_than: datetime | None = None
                     ) -> AuditCheckpoint | None:
    """Sign the chain's head as it is now, even when nothing was appended (the hourly job); the caller commits.

    With `unless_newer_than`, sign only when no checkpoint was made after that time (None: none made).
    """
    # The same lock as append, so the head read here is the committed tip and checkpoints
    # are written in seq order; the freshness check under it lets several keepers race safely.
    conn = session.connection()
    head = conn.execute(_LOCK_HEAD).first()
    if unless_newer_than is not None:
        _, last_at = newest_checkpoint(conn)
        if last_at is not None and last_at > unless_newer_than:
            return None
    seq, chain_hash = (head.seq, head.hash) if head else (0, GENESIS)
    # Without a head row (an empty trail) there is nothing to note; the first append finds this one.
    return add_checkpoint(conn, key, seq, chain_hash, utcnow(), note_on_head=head is not None)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))
