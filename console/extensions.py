"""Flask extensions; each keeps its per-app state in app.extensions."""
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
# No default limits: limits are declared where they protect something (login, task runs).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def login_email_key() -> str:
    """Rate-limit key for failed logins per account."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]
