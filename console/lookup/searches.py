"""The audit of searches that matched personal data.

A search by the start of a personal value answers which values begin with it, one more character at a
time: enough to spell out a masked value, so it is for roles that may reveal (console/lookup/listing.py
leaves it out for the others). Every search that matched personal data leaves one audit entry, with the
query masked and keyed-hashed rather than written out.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from console.audit.chain import record_event
from console.db import console_session
from console.lookup.listing import Listing
from console.product.mask import email as mask_email, text as mask_text


def query_digest(text: str) -> str:
    """A keyed hash of a query: the same query always gives the same digest, and no one can reverse it."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else bytes(key or b"")
    return hmac.new(key, text.lower().encode(), hashlib.sha256).hexdigest()


def record_search(user, q: str, listing: Listing | None, *, record: str) -> None:
    """Audit a search that matched personal data: one entry per request; nothing for the rest.

    Raises AuditUnavailable: a search that cannot be recorded shows nothing.
    """
    if listing is None or not listing.personal_matches:
        return
    matches, more = listing.personal_matches
    kind = "email" if "@" in q else "text"
    shown = mask_email(q) if kind == "email" else mask_text(q)
    record_event(console_session(), actor=user.email, action="pii.search", subject_type=record,
                 details={"kind": kind, "query": shown, "query_digest": query_digest(q),
                          "matches": matches, "more": more})
