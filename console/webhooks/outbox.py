"""Queueing chat messages: `notify` writes one into the outbox inside the caller's transaction.

A message commits with the event it tells of, or not at all, and the sender (sender.py)
posts it later. Every piece of a message that a person typed, or that came from the
product, is escaped for Slack's markup here, once: the template's own markup stays markup.
"""
from __future__ import annotations

import hashlib
import json
import re

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from console.db import utcnow
from console.webhooks.models import WebhookMessage

# Every kind of message, named in the X-Console-Event header (docs/WEBHOOKS.md lists them).
KINDS = ("approval.requested", "approval.expired", "approval.decided", "approval.rejected", "escalation.created",
         "escalation.digest")
MAX_TEXT = 3000
MAX_FIELD = 500
SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CUT_ENTITY = re.compile(r"&[a-z]*$")


def escape(text: str) -> str:
    """Escape Slack's control characters so `<!channel>` or `<url|text>` in user text stays text."""
    return "".join(SLACK_ESCAPES.get(ch, ch) for ch in text)


def render(template: str, fields: dict) -> str:
    """Fill a message template with escaped fields; the template itself is trusted markup."""
    text = template.format(**{name: escape(str(value)[:MAX_FIELD]) for name, value in fields.items()})
    if len(text) <= MAX_TEXT:
        return text
    return _CUT_ENTITY.sub("", text[:MAX_TEXT])  # never leave half an escape at the cut


def destination_of(url: str) -> str:
    """The outbox's name for a webhook URL: a fingerprint, so that the secret URL is not stored."""
    return hashlib.sha256(url.strip().encode()).hexdigest()[:16]


def notify(session: Session, kind: str, template: str, /, **fields) -> WebhookMessage | None:
    """Queue a message in `session`'s transaction; None when webhooks are off or there is no app."""
    if kind not in KINDS:
        raise ValueError(f"unknown webhook message kind {kind!r}; add it to KINDS and docs/WEBHOOKS.md")
    url = current_app.config.get("WEBHOOK_URL") if has_app_context() else ""
    if not url:
        return None
    now = utcnow()
    message = WebhookMessage(destination=destination_of(url), kind=kind, created_at=now, next_attempt_at=now,
                             body=json.dumps({"text": render(template, fields)}), status="pending", attempts=0,
                             last_error="")
    session.add(message)
    return message
