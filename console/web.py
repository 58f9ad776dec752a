"""App-wide HTTP behaviour: health check, security headers, error pages, how answers become JSON."""
from __future__ import annotations

import os
import time
import unicodedata
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, g, jsonify, redirect, request, send_from_directory, session,
                   url_for)
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from console import formatting
from console.db import databases
from console.jsontext import jsonable

bp = Blueprint("web", __name__)
CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"))
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
STATIC_ENDPOINTS = ("static", "admin.static")
CSRF_RESIGN_SECONDS = 60
CSRF_CACHE_LIMIT = 4096


@bp.route("/healthz")
def healthz():
    dbs = databases()
    try:
        with dbs.console_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with dbs.target_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means 'not ready'; say which, never a traceback
        return jsonify({"status": "unavailable", "error": exc.__class__.__name__}), 503
    return jsonify({"status": "ok"})


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated else url_for("auth.login"))


def is_local_path(target: str | None) -> bool:
    """Whether `target` is a path on this console, safe to redirect to (no other host, scheme or header)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    # Browsers drop tabs and newlines from a URL ('/\t/evil.example' is '//evil.example') and treat a
    # backslash as a slash; a newline in a Location header is also refused by the server (a 500).
    if any(char.isspace() or unicodedata.category(char).startswith("C") for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.route("/favicon.ico")
def favicon():
    # Browsers ask for it on every site whether or not a page names one; without it each
    # first page view logs a 404.
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


def csp_nonce() -> str:
    # g resolved once: each use of the proxy looks the app context up again, and a page asks a few times.
    store = g._get_current_object()
    nonce = store.__dict__.get("csp_nonce")
    if nonce is None:
        # 128 random bits in hex (base64's alphabet holds its digits): secrets.token_urlsafe was eight calls.
        nonce = store.csp_nonce = os.urandom(16).hex()
    return nonce


class CsrfTokens:
    """`csrf_token()` in templates: Flask-WTF's signed token, signed at most once a minute per session token.

    Signing (a timestamp, HMAC, base64) was about 190 Python calls of every page. A token reused from
    earlier in the same minute expires at most a minute sooner (WTF_CSRF_TIME_LIMIT), never later, and
    is checked as any other. Keyed by the session's raw token, so no session ever gets another's.
    """

    def __init__(self, clock=time.time):
        self._signed: dict[tuple, str] = {}
        self._clock = clock

    def __call__(self) -> str:
        store = g._get_current_object()  # once: each use of the proxy looks the app context up again
        token = store.__dict__.get("csrf_token")
        if token is not None:
            return token  # this request's, as generate_csrf keeps it
        minute = int(self._clock()) // CSRF_RESIGN_SECONDS
        token = self._signed.get((session.get("csrf_token"), minute))
        if token is None:
            token = generate_csrf()  # signs, creating the session's raw token if it has none
            if len(self._signed) >= CSRF_CACHE_LIMIT:
                self._signed.clear()
            self._signed[(session["csrf_token"], minute)] = token
        else:
            store.csrf_token = token  # forms on the page (generate_csrf) reuse it
        return token


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_page(title: str, message: str) -> str:
    """The HTML error page, rendered without touching a database."""
    # Not render_template: its context processors load the user (Flask-Login's does, at once) from the
    # console database, and that may be what is down; the page then became gunicorn's bare 500.
    return current_app.jinja_env.get_template("error.html").render(title=title, message=message)


def _error(status: int, title: str, message: str, code: str):
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message, "fields": {}}}), status
    return error_page(title, message), status


class JsonTextProvider(DefaultJSONProvider):
    """jsonify writes what it cannot write itself as console.jsontext does (dates as ISO text, not Flask's
    HTTP dates): an answer and the audit entry of the same value say it the same way."""

    @staticmethod
    def default(value):
        return jsonable(value)


def init_app(app: Flask) -> None:
    app.json = JsonTextProvider(app)
    if app.config.get("TRUSTED_PROXIES"):
        # The address that per-address limits and the audit see: the client as the outermost trusted proxy saw it.
        # Without trusted proxies X-Forwarded-For is anyone's to write, so the socket's address counts.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])
    app.register_blueprint(bp)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    # In place of Flask-WTF's generate_csrf, which it puts in both the globals and every template's context.
    tokens = {"csrf_token": CsrfTokens()}
    app.jinja_env.globals.update(tokens)
    app.context_processor(lambda: tokens)
    formatting.init_app(app)

    @app.after_request
    def _security_headers(response):
        req = request._get_current_object()  # once: each use of the proxy looks the request up again
        wanted = [("Content-Security-Policy", CSP.format(nonce=csp_nonce())), *FIXED_HEADERS]
        if req.is_secure:
            wanted.append(HSTS)
        endpoint = req.endpoint
        if endpoint and endpoint not in STATIC_ENDPOINTS:
            # Pages and answers can carry personal data: never keep them in a shared cache.
            wanted.append(("Cache-Control", "no-store"))
        # A header the view set wins. One pass over the few present, not a setdefault per header
        # (each looks the name up anew: about 25 Python calls a header, on every request).
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return _error(400, "The form expired", "The form's security token was missing or wrong "
                      "(CSRF check). Go back, reload the page and try again.", "csrf")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        body, status = _error(exc.code or 500, exc.name, exc.description or exc.name,
                              exc.name.lower().replace(" ", "_"))
        # A 405 must say which methods the path takes (RFC 9110); Werkzeug's own answer does, ours too.
        return body, status, [(name, value) for name, value in exc.get_headers() if name == "Allow"]

    @app.errorhandler(DataError)
    def _unstorable_value(exc):
        # A value the database cannot hold (a NUL character, a number beyond a 32-bit column) that got past
        # validation: bad input, so a 400, never a 500. The statement failed, so nothing of it was written.
        app.logger.warning("unstorable value on %s %r: %s", request.method, request.path, exc.orig or exc)
        return _error(400, "A value cannot be stored", "A value in the request cannot be stored by the database "
                      "(a NUL character, or a number out of range), so nothing was done.", "invalid")

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc):
        # A database that cannot be reached (down, restarting, out of connections) is an outage, not a bug.
        app.logger.error("database unavailable on %s %r: %s", request.method, request.path, exc.orig or exc)
        return _error(503, "A database is unavailable", "A database cannot be reached right now, so nothing was "
                      "done. Try again in a minute; if it keeps happening, tell an admin.", "database_unavailable")

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("unhandled error on %s %r", request.method, request.path)
        return _error(500, "Something went wrong", "The error was logged. Nothing was changed by this page.",
                      "internal_error")
