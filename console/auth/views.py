"""Login and logout for the browser."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from console.audit.chain import AuditUnavailable, record_event
from console.auth.forms import LoginForm
from console.auth.services import authenticate, end_sessions, normalize_email
from console.db import console_session, utcnow
from console.extensions import limiter, login_email_key
from console.web import is_local_path

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only paths on this console: an open redirect after login is a phishing aid.
    return target if is_local_path(target) else url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", key_func=login_email_key, methods=["POST"], deduct_when=lambda r: r.status_code == 401)
@limiter.limit("60 per 15 minutes", methods=["POST"], deduct_when=lambda r: r.status_code == 401)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = console_session()
        email = normalize_email(form.email.data)
        user = authenticate(db, email, form.password.data)
        address = {"address": request.remote_addr or ""}
        try:
            if user is None:
                record_event(db, actor=email, action="login.failed", subject_type="user", details=address)
                flash("Email or password is not right.", "error")
                status = 401
            else:
                user.last_login_at = utcnow()
                # Audited before the session exists: no audit entry, no login (fail closed).
                record_event(db, actor=user.email, action="login", subject_type="user", subject_id=user.id,
                             details=address)
                next_url = _safe_next(request.args.get("next"))
                session.clear()  # a fresh session at login: nothing from before survives
                login_user(user)
                session["login_at"] = int(time.time())
                return redirect(next_url)
        except AuditUnavailable:
            flash("Logging in is unavailable right now: the audit trail cannot be written. Try again shortly.",
                  "error")
            status = 503
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, demo=current_app.config.get("DEMO")), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        db = console_session()
        user = current_user._get_current_object()
        end_sessions(db, user)
        record_event(db, actor=user.email, action="logout", subject_type="user", subject_id=user.id)
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
