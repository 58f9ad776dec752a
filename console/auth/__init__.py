"""Staff users, roles, login and API tokens."""
from __future__ import annotations

import time

from flask import Flask, g, has_app_context, redirect, request, session, url_for
from flask_login import logout_user
from sqlalchemy import bindparam, select

from console.auth.models import ApiToken, StaffUser
from console.db import console_session
from console.extensions import login_manager


# Built once: session.get() builds its SELECT on every call, which cost more than running it.
_USER_BY_ID = select(StaffUser).where(StaffUser.id == bindparam("id"))


def remember_token(row: ApiToken) -> None:
    """Keep, for this request, who issued the bearer token it came with (four-eyes counts them too)."""
    g.token_issuer_id = row.issued_by_id


def token_issuer_id() -> int | None:
    """The staff id of whoever issued this request's bearer token; None without one, or when unknown."""
    return g.get("token_issuer_id") if has_app_context() else None


def _load_user(cookie_id: str) -> StaffUser | None:
    # The cookie carries "id:session_version"; a version that no longer matches means the
    # user logged out, was disabled or changed role since, so the cookie is dead.
    try:
        user_id, version = (int(part) for part in cookie_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = console_session().execute(_USER_BY_ID, {"id": user_id}).scalar_one_or_none()
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _session_expired(app: Flask) -> bool:
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
    app.register_blueprint(bp)
    sso.init_app(app)

    @app.before_request
    def _enforce_timeouts():
        if "_user_id" in session and request.endpoint not in ("static", "admin.static"):
            if _session_expired(app):
                logout_user()
                session.clear()
                return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return None

    admin_db = app.extensions["console_db"].console
    admin.add_view(StaffUserView(StaffUser, admin_db, name="Staff users", category="Admin", endpoint="staff_users"))
    admin.add_view(ApiTokenView(ApiToken, admin_db, name="API tokens", category="Admin", endpoint="api_tokens"))
