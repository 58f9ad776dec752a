"""Searching records for a user: who may match part of a personal value, and the audit of searches that did.

Matching the start or any part of an email, a name or a phone number answers, one keystroke at a
time, what a masked value holds. So prefix and substring steps over personal columns are for roles
that may reveal personal data; other roles keep the exact keys (a full value finds only the rows
the searcher already named) and the partial keys over columns that are not personal. When that
leaves them nothing, they are told why (403) rather than shown an empty list. Every search whose
page holds a row found through a personal column leaves one `pii.search` audit entry, the query
masked and keyed-hashed rather than written out, whatever the role.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.audit.chain import record_event
from console.permissions import REVEAL_PII, role_refusal, user_can
from console.db import begin_writing, console_session
from console.product import mask
from console.product.queries import PARTIAL, Phase, QueryInputError, find_page, item, search_keys
from console.product.schema import ReflectedRecord


def may_search_partially(user) -> bool:
    """Whether the user may match part of a personal value: the roles that may reveal it."""
    return user_can(user, REVEAL_PII)


def query_digest(text: str) -> str:
    """A keyed hash of a query: the same query always gives the same digest, and no one can reverse it."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else bytes(key or b"")
    return hmac.new(key, text.lower().encode(), hashlib.sha256).hexdigest()


def after_search(user, reflected: ReflectedRecord, q: str, shown: list[tuple[Phase, object]], *, partial: bool,
                 more: bool, first: bool) -> None:
    """The rule's last word on a page of a search, and its audit; every caller of a search for a user calls it.

    `shown` is the page's rows, each with the step that found it; `first` whether the page is the search's
    first (a later page found rows before). QueryInputError (403) when the role's search left out partial
    steps over personal columns and found nothing else; AuditUnavailable when it cannot be recorded.
    """
    record = reflected.record
    text = q.strip()
    withheld = search_keys(record, personal_partial=partial).withheld
    if text and withheld and not shown and first:
        raise QueryInputError("q", "q: " + role_refusal(user.role, f"search {record.name} by part of "
                                                     f"{', '.join(withheld)}; search by a whole value or by key"), 403)
    personal = [step.kind for step, _row in shown if step.column in record.personal]
    if personal:
        kinds = sorted(set(personal))
        begin_writing(console_session())  # a GET that writes its audit: on SQLite, the lock before the entry
        record_event(console_session(), actor=user.email, action="pii.search", subject_type=record.name,
                     details={"kinds": kinds, "partial": any(kind in PARTIAL for kind in kinds),
                              "query": mask.text(text), "query_digest": query_digest(text),
                              "matches": len(personal), "more": more})


def search_page(session: Session | Connection, reflected: ReflectedRecord, user, *, q: str | None = None,
                after: str | None = None, revealed: bool = False) -> dict:
    """One page of the record as `user` may search it: {"items", "next"} (list_page's answer).

    QueryInputError with status 403 when the role's search leaves out partial steps over personal
    columns and finds nothing else; AuditUnavailable when the search cannot be recorded (nothing shown).
    """
    partial = may_search_partially(user)
    found = find_page(session, reflected, q=q, after=after, personal_partial=partial)
    after_search(user, reflected, q or "", [(found.steps[number], row) for number, row in found.rows],
                 partial=partial, more=found.next is not None, first=not after)
    return {"items": [item(reflected, row, revealed) for _number, row in found.rows], "next": found.next}
