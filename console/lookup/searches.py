"""Searches on personal data: who may search how, and the audit of the searches that matched some.

A search by the start of an email answers which addresses begin with it, one more character at a
time: enough to spell out a masked address. So it is for roles that may reveal personal data. A full
address or a number finds at most the one record the searcher already named, and is open to every
role that looks customers up; its result stays masked. Every search that matched personal data
leaves one audit entry, with the query masked and keyed-hashed rather than written out.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from console.audit.chain import record_event
from console.db import console_session
from console.lookup.masking import mask_email, mask_text
from console.lookup.queries import Listing, LookupInputError, Search
from console.lookup.reveal import may_reveal

# The kinds of search that compare the query with personal data (a number compares with keys).
PERSONAL_SEARCHES = ("email", "prefix")


class SearchRefused(LookupInputError):
    """This role may not search personal data this way; nothing was searched."""

    status = 403


def check_search(user, search: Search) -> None:
    """Refuse a prefix search to a role that may not reveal what it would spell out."""
    if search.kind == "prefix" and not may_reveal(user):
        raise SearchRefused("q", "Your role may not search by the start of an email address. Search by the full "
                                 "address, or by a customer or order number.")


def query_digest(text: str) -> str:
    """A keyed hash of a query: the same query always gives the same digest, and no one can reverse it."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else bytes(key or b"")
    return hmac.new(key, text.lower().encode(), hashlib.sha256).hexdigest()


def record_search(user, search: Search, listing: Listing | None, *, scope: str) -> None:
    """Audit a search that matched personal data: one entry per request; nothing for the rest.

    Raises AuditUnavailable: a search that cannot be recorded shows nothing.
    """
    if listing is None or search.kind not in PERSONAL_SEARCHES or not listing.personal_matches:
        return
    matches, more = listing.personal_matches
    shown = mask_email(search.text) if search.kind == "email" else mask_text(search.text)
    record_event(console_session(), actor=user.email, action="pii.search", subject_type=scope,
                 details={"kind": search.kind, "query": shown, "query_digest": query_digest(search.text),
                          "matches": matches, "more": more})
