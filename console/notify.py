"""Notifications to a chat webhook (Slack-compatible JSON `{"text": ...}`), for any domain.

`notify(text)` posts in a background thread with a short timeout and never raises into
its caller: a slow or broken chat service must not slow or break a task run. Failures are
logged. WEBHOOK_URL (env CONSOLE_WEBHOOK_URL) empty means notifications are off;
WEBHOOK_TIMEOUT_SECONDS (default 3) bounds each post.
"""
from __future__ import annotations

import json
import logging
import threading
import urllib.request
from urllib.parse import urlsplit

from flask import current_app

log = logging.getLogger(__name__)
MAX_TEXT = 3000
DEFAULT_TIMEOUT_SECONDS = 3.0


def _post(url: str, payload: bytes, timeout: float) -> None:
    request = urllib.request.Request(url, data=payload, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "support-console"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            response.read(1024)
    except Exception as exc:  # a chat outage is logged, never raised
        log.warning("webhook notification to %s failed: %s: %s", urlsplit(url).netloc, exc.__class__.__name__, exc)


def notify(text: str, app=None) -> threading.Thread | None:
    """Post `text` to the configured webhook in the background; return the thread (None when off)."""
    try:
        config = (app or current_app).config
        url = (config.get("WEBHOOK_URL") or "").strip()
        if not url:
            return None
        if urlsplit(url).scheme not in ("http", "https"):
            log.warning("WEBHOOK_URL must be an http(s) URL; notification dropped")
            return None
        timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
        payload = json.dumps({"text": str(text)[:MAX_TEXT]}).encode()
        thread = threading.Thread(target=_post, args=(url, payload, timeout), name="webhook-notify", daemon=True)
        thread.start()
        return thread
    except Exception:  # even a misconfiguration must not break the caller
        log.exception("webhook notification could not be sent")
        return None
