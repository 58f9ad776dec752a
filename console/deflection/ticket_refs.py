"""Ticket references: the one rule a reference must follow, wherever one is taken, and its helpdesk link.

TICKET_REF_PATTERN says what a reference may be; HELPDESK_URL_TEMPLATE turns a reference into the
helpdesk's page of the ticket, and a pasted page back into its reference. `TicketError`, the error of
every ticket request, lives here, below everything that checks a ticket's fields.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from flask import current_app, has_app_context

MAX_REF_LENGTH = 120  # the column's width: a TICKET_REF_PATTERN allowing more is still cut here
DEFAULT_REF_PATTERN = r"[A-Za-z0-9#._-]{1,40}"
DEFAULT_REF_RULE = "1 to 40 letters, digits and - _ # ."
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TicketError(ValueError):
    """A ticket request that breaks a rule; `field` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def compile_ref_pattern(text: str) -> re.Pattern:
    """TICKET_REF_PATTERN compiled; ValueError says why it cannot be used (the start-up check)."""
    try:
        pattern = _compiled(text)
    except re.error as exc:
        raise ValueError(f"is not a regular expression ({exc})") from None
    if pattern.fullmatch(""):
        raise ValueError("matches an empty reference; a reference must have at least one character")
    return pattern


@lru_cache(maxsize=8)
def _compiled(text: str) -> re.Pattern:
    return re.compile(text)


def check_helpdesk_template(template: str) -> None:
    """HELPDESK_URL_TEMPLATE: an http(s) URL with a host and exactly one `{ref}`; ValueError says why not."""
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc or "{ref}" in parts.netloc:
        raise ValueError("must be an http:// or https:// URL with a host, such as "
                         "https://acme.zendesk.com/agent/tickets/{ref}")
    if template.count("{ref}") != 1:
        raise ValueError("must contain {ref} exactly once, where the ticket reference goes")


def _setting(name: str) -> str:
    return (current_app.config.get(name) or "") if has_app_context() else ""


def helpdesk_url(ref: str) -> str | None:
    """The ticket's page in the helpdesk, from HELPDESK_URL_TEMPLATE ('{ref}' is replaced); None when unset."""
    template = _setting("HELPDESK_URL_TEMPLATE")
    if not ref or not template.lower().startswith(("https://", "http://")):
        return None
    return template.replace("{ref}", quote(ref, safe=""))


def _ref_in_helpdesk_url(text: str) -> str | None:
    """The reference in a pasted helpdesk URL (one HELPDESK_URL_TEMPLATE builds), else None."""
    template = _setting("HELPDESK_URL_TEMPLATE")
    if "{ref}" not in template or not text.lower().startswith(("https://", "http://")):
        return None
    before, _, after = template.partition("{ref}")
    found = re.fullmatch(re.escape(before) + r"(?P<ref>[^/?#]+)" + re.escape(after) + r"/?(?:[?#].*)?", text,
                         flags=re.IGNORECASE)
    return unquote(found["ref"]) if found else None


def clean_ref(ref: str) -> str:
    """A helpdesk reference, trimmed, or the one in a pasted helpdesk URL; it must match TICKET_REF_PATTERN.

    The one check of a ticket reference, wherever one is taken: task runs, the API, the forms,
    outcomes, reveals. TicketError("ticket") says what a reference may be.
    """
    ref = (ref or "").strip() if isinstance(ref, str) or ref is None else None
    if ref is None:
        raise TicketError("ticket", "a ticket reference must be text")
    if not ref:
        raise TicketError("ticket", "a ticket reference is required")
    ref = _ref_in_helpdesk_url(ref) or ref
    if len(ref) > MAX_REF_LENGTH:
        raise TicketError("ticket", f"a ticket reference is at most {MAX_REF_LENGTH} characters")
    if _CONTROL.search(ref):  # whatever a configured pattern allows
        raise TicketError("ticket", "a ticket reference cannot contain control characters or newlines")
    configured = _setting("TICKET_REF_PATTERN")
    if not compile_ref_pattern(configured or DEFAULT_REF_PATTERN).fullmatch(ref):
        raise TicketError("ticket", f"a ticket reference must match TICKET_REF_PATTERN ({configured})" if configured
                          else f"a ticket reference is {DEFAULT_REF_RULE}")
    return ref
