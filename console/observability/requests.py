"""Request ids, and one JSON log line per request when CONSOLE_LOG_FORMAT=json.

Every request gets an id: the caller's `X-Request-ID` when it looks like one (so a proxy's id
carries through), otherwise a new one. It is answered in `X-Request-ID`, stamped on every log
record of the request, and stored in the details of every audit entry the request writes, so
an entry in the trail leads to the request's log lines and back.
"""
from __future__ import annotations

import logging
import re
import secrets
import sys
import time

from flask import Flask, g, has_request_context, request
from flask.globals import _cv_app
from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_HANDLER_MARK = "_console_json_handler"
access_log = logging.getLogger("console.access")


class RequestIdFilter(logging.Filter):
    """Stamp the current request's id on every record logged while it is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def json_handler(stream=None) -> logging.Handler:
    """A handler that writes one JSON object per record: time, level, logger, message, request id, extras."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter("{asctime}{levelname}{name}{message}{request_id}", style="{",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                                       json_ensure_ascii=False))
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def use_json_logs() -> None:
    """Send the process's log records to stderr as JSON lines (once per process, whatever the app count)."""
    root = logging.getLogger()
    if any(getattr(handler, _HANDLER_MARK, False) for handler in root.handlers):
        return
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(logging.INFO)


def _begin() -> None:
    store = g._get_current_object()  # once: each use of the proxy looks the app context up again
    incoming = request.headers.get("X-Request-ID", "")
    store.request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
    store.request_started = time.perf_counter()


def _finish(response):
    response.headers["X-Request-ID"] = _cv_app.get().g.get("request_id", "")  # not the g proxy: three calls fewer
    return response


def _log_line(response):
    """The request's one access line: the route's pattern, never the path or query (they may hold personal data)."""
    started = g.get("request_started")
    rule = request.url_rule.rule if request.url_rule is not None else None
    access_log.info("request", extra={
        "method": request.method, "route": rule, "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "remote_addr": request.remote_addr,
    })
    return response


def first_before_request(app: Flask, hook) -> None:
    """Run `hook` before every other before-request hook (CSRF's among them), which may answer early."""
    app.before_request_funcs.setdefault(None, []).insert(0, hook)


def init_app(app: Flask) -> None:
    first_before_request(app, _begin)
    app.after_request(_finish)
    if app.config["LOG_FORMAT"] == "json":
        use_json_logs()
        app.after_request(_log_line)
