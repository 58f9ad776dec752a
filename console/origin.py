"""Whether a GET may write: only when this console's own pages (or a bearer token) made it.

A few GETs record something as a side effect: the runbook a ticket's agent read, a runbook
search that found nothing. The session cookie is SameSite=Lax, so a link on another site
still arrives logged in; such a request must change nothing. The browser says who started a
request in `Sec-Fetch-Site`; without it (older browsers) the Referer must be this origin,
which the console's Referrer-Policy (same-origin) sends. Neither header: not ours. A prefetch
is not a visit either.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request


def from_own_page(request: Request) -> bool:
    """True when one of this console's pages made the request (a link clicked, a form sent)."""
    if "prefetch" in request.headers.get("Sec-Purpose", "") or request.headers.get("Purpose") == "prefetch":
        return False
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    referrer = urlsplit(request.headers.get("Referer", ""))
    return (referrer.scheme, referrer.netloc) == (request.scheme, request.host)


def may_write_on_get(request: Request) -> bool:
    """A bearer token carries no ambient credential, so any request with one may; a browser's only from our pages."""
    return request.headers.get("Authorization", "").lower().startswith("bearer ") or from_own_page(request)
