"""Appending to the hash chain: one function, used by every domain."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.audit.models import AuditEntry, AuditHead
from console.db import utcnow

GENESIS = "0" * 64
REDACTED = "[redacted]"
HASHED_FIELDS = (
    "seq", "created_at", "actor", "action", "subject_type", "subject_id", "ticket", "reason", "task",
    "customer", "outcome", "details",
)


class AuditUnavailable(Exception):
    """The audit store could not be written; callers must not go on (fail closed)."""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(fields: dict, prev_hash: str) -> str:
    """SHA-256 over prev_hash and the canonical form of the entry's hashed fields."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = body["created_at"].isoformat(timespec="microseconds")
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def _clean(text: Any, limit: int) -> str:
    return str(text or "")[:limit]


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str = "",
    subject_id: Any = "",
    ticket: str = "",
    reason: str = "",
    task: str = "",
    customer: str = "",
    outcome: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry to the chain in the session's transaction; the caller commits."""
    # Taking the head row's write lock first (an UPDATE) serialises concurrent writers on
    # PostgreSQL and on SQLite alike, so seq and prev_hash can never fork.
    bumped = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    if bumped.rowcount == 0:
        session.add(AuditHead(id=1, seq=1, hash=GENESIS))
        session.flush()
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    fields = {
        "seq": head.seq,
        "created_at": utcnow(),
        "actor": _clean(actor, 254),
        "action": _clean(action, 60),
        "subject_type": _clean(subject_type, 40),
        "subject_id": _clean(subject_id, 120),
        "ticket": _clean(ticket, 120),
        "reason": _clean(reason, 4000),
        "task": _clean(task, 100),
        "customer": _clean(customer, 254),
        "outcome": _clean(outcome, 30),
        "details": canonical_json(details or {}),
    }
    digest = entry_hash(fields, head.hash)
    entry = AuditEntry(**fields, prev_hash=head.hash, hash=digest)
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    session.flush()
    return entry


def record_event(session: Session, *, commit: bool = True, **fields) -> AuditEntry:
    """Append an entry and commit it; raise AuditUnavailable when the store cannot be written."""
    try:
        entry = append(session, **fields)
        if commit:
            session.commit()
        return entry
    except Exception as exc:  # any database failure here means no audit, so nothing may proceed
        session.rollback()
        raise AuditUnavailable(f"the audit trail could not be written: {exc.__class__.__name__}") from exc
