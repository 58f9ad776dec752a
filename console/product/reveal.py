"""Revealing a record's personal data: a reason, a role that may, an audit entry first (the pages' reveal too)."""
from __future__ import annotations

import re

from console.audit.chain import record_event
from console.permissions import REVEAL_PII, role_title, user_can
from console.db import console_session

REASON_MIN, REASON_MAX = 5, 500
MAX_REVEAL_TICKET = 100
# Newlines and tabs may stay in a reason; no other control character goes into the audit trail.
CONTROL = r"\x00-\x08\x0b-\x1f\x7f"
_CONTROL = re.compile(f"[{CONTROL}]")


class RevealRefused(Exception):
    """A reveal was not allowed or not valid; nothing was revealed or audited."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


def check_reveal(user, reason) -> str:
    """The reason, tidied; RevealRefused (403 for a role without the right, 400 for a bad reason) otherwise."""
    if not user_can(user, REVEAL_PII):
        raise RevealRefused(403, "role", f"Your role ({role_title(user.role)}) may not reveal personal data.")
    if reason is not None and not isinstance(reason, str):
        raise RevealRefused(400, "reason", "Reason: must be text.")
    reason = reason or ""
    # The rules apply to the text as sent (the API document states them as a JSON Schema); the audit keeps
    # it on one line.
    if len(reason) > REASON_MAX:
        raise RevealRefused(400, "reason", f"Reason: at most {REASON_MAX} characters.")
    if _CONTROL.search(reason):
        raise RevealRefused(400, "reason", "Reason: newlines and tabs only, no other control characters.")
    if len(reason.strip()) < REASON_MIN:
        raise RevealRefused(400, "reason", f"Reason: say why you need to see this personal data "
                                           f"(at least {REASON_MIN} characters besides surrounding spaces).")
    return " ".join(reason.split())


def audit_reveal(user, record: str, key, reason: str, ticket: str = "") -> None:
    """Write the reveal to the audit trail; AuditUnavailable means nothing may be revealed."""
    record_event(console_session(), actor=user.email, action="pii.reveal", subject_type=record, subject_id=key,
                 reason=reason, ticket=ticket, details={"via": "api"})
