"""Revealing one customer's personal data, for a while, with a reason, on the audit trail.

A reveal lives in the signed session cookie (customer id -> expiry), so it follows the user and
not the process, and is gone at logout. The role is checked on every page as well as at the
reveal: a product owner never sees unmasked data, whatever the session holds.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import current_app, session

from console.audit.chain import record_event
from console.permissions import REVEAL_PII, user_can
from console.db import console_session
from console.product.reveal import RevealRefused, check_reveal

__all__ = ["RevealRefused", "hide_customer", "may_reveal", "reveal_customer", "revealed_until"]

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


def revealed_until(user, customer_id: int) -> datetime | None:
    """When this user's reveal of the customer ends (naive UTC), or None when it is masked."""
    if not may_reveal(user):
        return None
    until = _live_reveals().get(str(customer_id))
    if until is None:
        return None
    return datetime.fromtimestamp(until, timezone.utc).replace(tzinfo=None)


def reveal_customer(user, customer, reason: str | None) -> datetime:
    """Audit the reveal, then unmask the customer for this session; return when it ends.

    Raises RevealRefused (403 for a role without the right, 400 for a missing reason) and lets
    AuditUnavailable through: with no audit entry, nothing is revealed.
    """
    reason = check_reveal(user, reason)
    minutes = reveal_minutes()
    record_event(console_session(), actor=user.email, action="pii.reveal", subject_type="customer",
                 subject_id=customer.id, reason=reason, customer=customer.email,
                 ticket=session.get("ticket_ref") or "", details={"minutes": minutes})
    reveals = _live_reveals()
    reveals[str(customer.id)] = int(clock()) + minutes * 60
    if len(reveals) > MAX_REVEALED:
        reveals = dict(sorted(reveals.items(), key=lambda item: item[1])[-MAX_REVEALED:])
    session[SESSION_KEY] = reveals
    return revealed_until(user, customer.id)


def hide_customer(customer_id: int) -> None:
    """Mask the customer again before the reveal runs out."""
    reveals = _live_reveals()
    reveals.pop(str(customer_id), None)
    session[SESSION_KEY] = reveals
