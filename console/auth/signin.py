"""Starting a staff session, the same way for every sign-in method."""
from __future__ import annotations

import time

from flask import request, session, url_for
from flask_login import login_user

from console.audit.chain import record_event
from console.auth.models import StaffUser
from console.db import console_session, utcnow
from console.web import is_local_path


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this console, or the home page."""
    # Only paths on this console: an open redirect after login is a phishing aid.
    return target if is_local_path(target) else url_for("admin.index")


def begin_session(user: StaffUser, *, method: str) -> None:
    """Audit the login, then start a fresh session for `user` (raises AuditUnavailable: no entry, no login)."""
    user.last_login_at = utcnow()
    details = {"address": request.remote_addr or ""}
    if method != "password":
        details["method"] = method
    record_event(console_session(), actor=user.email, action="login", subject_type="user", subject_id=user.id,
                 details=details)
    session.clear()  # a fresh session at login: nothing from before survives
    login_user(user)
    session["login_at"] = int(time.time())
