"""Revealing one record's personal data, for a while, with a reason, on the audit trail.

A reveal lives in the signed session cookie ("record:key" -> expiry), so it follows the user and not the
process, and is gone at logout. The role is checked on every page as well as at the reveal: a product
owner never sees unmasked data, whatever the session holds. The reason's rules are the records API's
(console/product/reveal.py).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import current_app, session

from console.audit.chain import record_event
from console.permissions import REVEAL_PII, user_can
from console.db import console_session
from console.lookup.records import RecordPage
from console.product.mask import email as email_mask
from console.product.reveal import RevealRefused, check_reveal

__all__ = ["RevealRefused", "hide", "may_reveal", "reveal", "revealed_until"]

SESSION_KEY = "pii_revealed"
DEFAULT_MINUTES = 15
MAX_REVEALED = 20  # keeps the cookie small; the oldest reveal goes first
clock = time.time  # tests move time forward by replacing this


def reveal_minutes() -> int:
    return int(current_app.config.get("LOOKUP_REVEAL_MINUTES", DEFAULT_MINUTES))


def may_reveal(user) -> bool:
    return user_can(user, REVEAL_PII)


def _live_reveals() -> dict[str, int]:
    now = clock()
    return {key: until for key, until in (session.get(SESSION_KEY) or {}).items() if until > now}


def _slot(record: str, key) -> str:
    return f"{record}:{key}"


def revealed_until(user, record: str, key) -> datetime | None:
    """When this user's reveal of the record ends (naive UTC), or None when it is masked."""
    if not may_reveal(user):
        return None
    until = _live_reveals().get(_slot(record, key))
    if until is None:
        return None
    return datetime.fromtimestamp(until, timezone.utc).replace(tzinfo=None)


def _customer(page: RecordPage) -> str:
    """The record's email address, when it declares one: the audit trail is searched by customer."""
    record = page.reflected.record
    return next((str(page.values[c] or "") for c, mask in record.personal.items() if mask is email_mask), "")


def reveal(user, page: RecordPage, reason: str | None) -> datetime:
    """Audit the reveal, then unmask the record for this session; return when it ends.

    Raises RevealRefused (403 for a role without the right, 400 for a bad reason) and lets
    AuditUnavailable through: with no audit entry, nothing is revealed.
    """
    reason = check_reveal(user, reason)
    minutes, record = reveal_minutes(), page.reflected.record.name
    record_event(console_session(), actor=user.email, action="pii.reveal", subject_type=record,
                 subject_id=str(page.key), reason=reason, customer=_customer(page),
                 ticket=session.get("ticket_ref") or "", details={"minutes": minutes})
    reveals = _live_reveals()
    reveals[_slot(record, page.key)] = int(clock()) + minutes * 60
    if len(reveals) > MAX_REVEALED:
        reveals = dict(sorted(reveals.items(), key=lambda item: item[1])[-MAX_REVEALED:])
    session[SESSION_KEY] = reveals
    return revealed_until(user, record, page.key)


def hide(record: str, key) -> None:
    """Mask the record again before the reveal runs out."""
    reveals = _live_reveals()
    reveals.pop(_slot(record, key), None)
    session[SESSION_KEY] = reveals
