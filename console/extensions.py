"""Flask extensions; each keeps its per-app state in app.extensions."""
from flask import request
from flask.globals import _cv_app, _cv_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect


class ConsoleCSRF(CSRFProtect):
    """Flask-WTF's CSRF protection, asking first whether the request's method is one it checks.

    Flask-WTF looks up the view's exemptions before the method, about 30 Python calls on every GET, to
    then let it through. A method it checks (WTF_CSRF_METHODS) takes exactly Flask-WTF's path.
    """

    def protect(self, apply_exemptions=False):
        if _cv_request.get().request.method not in _cv_app.get().app.config["WTF_CSRF_METHODS"]:
            return None
        return super().protect(apply_exemptions=apply_exemptions)


csrf = ConsoleCSRF()
login_manager = LoginManager()


def request_user():
    """current_user without its proxy: the user Flask-Login loaded for this request (it keeps it in
    `g._login_user`, and login_user and logout_user change it there), else current_user's own lookup, which
    loads it. Through the proxy each use was about twelve Python calls, and a page asks four or five times."""
    ctx = _cv_app.get(None)
    user = ctx.g.__dict__.get("_login_user") if ctx is not None else None
    return user if user is not None else current_user._get_current_object()


# No default limits: limits are declared where they protect something (login, task runs).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def login_email_key() -> str:
    """Rate-limit key for failed logins per account."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]
