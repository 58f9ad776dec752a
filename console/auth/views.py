"""Login and logout for the browser."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from console.audit.chain import AuditUnavailable, record_event
from console.auth.forms import LoginForm
from console.auth.services import authenticate, end_sessions, normalize_email
from console.auth.signin import begin_session, safe_next
from console.auth.sso import sso_enabled
from console.db import console_session
from console.extensions import limiter, login_email_key

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", key_func=login_email_key, methods=["POST"], deduct_when=lambda r: r.status_code == 401)
@limiter.limit("60 per 15 minutes", methods=["POST"], deduct_when=lambda r: r.status_code == 401)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    password_login = current_app.config["PASSWORD_LOGIN"]
    if request.method == "POST" and not password_login:
        flash("Password login is turned off here (CONSOLE_PASSWORD_LOGIN=0): sign in with single sign-on.", "error")
        status = 403
    elif form.validate_on_submit():
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
                next_url = safe_next(request.args.get("next"))
                begin_session(user, method="password")  # audited before the session exists (fail closed)
                return redirect(next_url)
        except AuditUnavailable:
            flash("Logging in is unavailable right now: the audit trail cannot be written. Try again shortly.",
                  "error")
            status = 503
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, demo=current_app.config.get("DEMO"), sso=sso_enabled(),
                           password_login=password_login, next=request.args.get("next")), status


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
