"""Staff users, roles, login and API tokens."""
from __future__ import annotations

import time
from hashlib import sha512

from flask import Flask, g, has_app_context, redirect, request, session, url_for
from flask.globals import _cv_request
from flask_login import logout_user
from sqlalchemy import bindparam, select

from console.auth.identity import SignedInUser
from console.auth.models import ApiToken, StaffUser
from console.db import console_reads
from console.direct import send
from console.extensions import login_manager


# Built once: session.get() builds its SELECT on every call, which cost more than running it. Only a
# cookie's own user, enabled and with the version the cookie carries, is found.
_SIGNED_IN = (select(*(StaffUser.__table__.c[name] for name in SignedInUser.COLUMNS))
              .where(StaffUser.id == bindparam("id"), StaffUser.active.is_(True),
                     StaffUser.session_version == bindparam("version")))


def remember_token(issued_by_id: int | None) -> None:
    """Keep, for this request, who issued the bearer token it came with (four-eyes counts them too)."""
    g.token_issuer_id = issued_by_id


def token_issuer_id() -> int | None:
    """The staff id of whoever issued this request's bearer token; None without one, or when unknown."""
    return g.get("token_issuer_id") if has_app_context() else None


def _load_user(cookie_id: str) -> SignedInUser | None:
    # The cookie carries "id:session_version" (StaffIdentity.get_id); a version that no longer matches means
    # the user logged out, was disabled or changed role since, so the cookie is dead. Read on every request,
    # never remembered between requests: on a page's read connection (console_reads), or in the transaction of
    # a request that writes.
    try:
        user_id, version = (int(part) for part in cookie_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    row = send(console_reads(), _SIGNED_IN, {"id": user_id, "version": version}).first()
    return None if row is None else SignedInUser(*row)


def session_identifier() -> str:
    """Flask-Login's session identifier (flask_login.utils._create_identifier), read from the WSGI environ.

    The same digest of the same values (the first X-Forwarded-For address, or the socket's, and the
    User-Agent), which Flask-Login's session protection compares on every request; through the request's
    header and address properties it cost about 30 Python calls.
    """
    environ = _cv_request.get().request.environ
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    agent = environ.get("HTTP_USER_AGENT")
    if agent is not None:
        agent = agent.encode("utf-8")
    return sha512(f"{address}|{agent}".encode("utf8")).hexdigest()


def _session_expired(app: Flask, session) -> bool:
    now = int(time.time())
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", login_at)
    if now - login_at > app.config["SESSION_ABSOLUTE_HOURS"] * 3600:
        return True
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    if now - seen_at > idle:
        return True
    # Writing the time on every request re-signs and re-sends the cookie on every page. A write at most
    # every tenth of the idle window (a minute at most) can only end a session early, never late.
    if now - seen_at >= min(60, idle // 10):
        session["seen_at"] = now
    return False


def init_app(app: Flask, admin) -> None:
    from console.auth.admin import StaffUserView, ApiTokenView
    from console.auth import sso
    from console.auth.views import bp

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.user_loader(_load_user)
    login_manager._session_identifier_generator = session_identifier
    app.register_blueprint(bp)
    sso.init_app(app)

    @app.before_request
    def _enforce_timeouts():
        # The request context's own session and request, not Flask's proxies: this runs before every request.
        ctx = _cv_request.get()
        if "_user_id" in ctx.session and ctx.request.endpoint not in ("static", "admin.static"):
            if _session_expired(app, ctx.session):
                logout_user()
                session.clear()
                return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return None

    admin_db = app.extensions["console_db"].console
    admin.add_view(StaffUserView(StaffUser, admin_db, name="Staff users", category="Admin", endpoint="staff_users"))
    admin.add_view(ApiTokenView(ApiToken, admin_db, name="API tokens", category="Admin", endpoint="api_tokens"))
