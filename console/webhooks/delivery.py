"""One signed POST of an outbox message, and what its answer means for the message.

The signature is HMAC-SHA256 over `timestamp + "." + body` with CONSOLE_WEBHOOK_SECRET;
docs/WEBHOOKS.md shows a receiver how to check it.
"""
from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request

# The payload itself was refused: sending it again cannot help, and would hold up every
# later message. Other refusals (401, 403, 404: a wrong URL or secret) end once fixed.
PERMANENT_STATUSES = frozenset({400, 413, 422})


class DeliveryFailed(Exception):
    """The receiver did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A signed message goes to the configured URL only; a redirect is an answer like any non-2xx.
    def redirect_request(self, *_args, **_kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Console-Signature value: v1=<hex HMAC-SHA256 of timestamp.body>."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str, delivery_id: int, kind: str, body: bytes, now: float | None = None) -> dict:
    timestamp = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json", "User-Agent": "support-console",
            "X-Console-Delivery": str(delivery_id), "X-Console-Event": kind,
            "X-Console-Timestamp": timestamp, "X-Console-Signature": signature(secret, timestamp, body)}


def post(url: str, secret: str, delivery_id: int, kind: str, body: bytes, timeout: float) -> None:
    """POST the message; return when the receiver answered 2xx, else raise DeliveryFailed."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers=signed_headers(secret, delivery_id, kind, body))
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryFailed(f"HTTP {exc.code}", permanent=exc.code in PERMANENT_STATUSES) from None
    except Exception as exc:  # refused, reset, timed out, DNS: the receiver may be back later
        raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}"[:300]) from None
