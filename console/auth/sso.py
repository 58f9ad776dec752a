"""Single sign-on with an OpenID Connect provider: authorization code flow with PKCE.

Authlib does the protocol: state and nonce kept in the session and checked once, the PKCE
verifier, the code exchange, and the ID token's signature (the provider's JWKS), issuer,
audience and expiry. This module adds the console's rules: the provider's discovery document
must name the configured issuer, staff are matched by a verified email and never created,
the session starts as for a password login, and every refusal is audited and said in words.
"""
from __future__ import annotations

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from requests.exceptions import RequestException

from console.audit.chain import AuditUnavailable, record_event
from console.auth.forms import LoginForm
from console.auth.services import find_user, normalize_email
from console.auth.signin import begin_session, safe_next
from console.db import begin_writing, console_session

bp = Blueprint("sso", __name__)
EXTENSION = "console_sso"


class SignInRefused(Exception):
    """The provider's answer cannot sign anyone in; the message says why, for the person and the audit."""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    oauth = OAuth(app)  # one registry per app: Authlib keeps registered clients on the OAuth object
    oauth.register(
        "provider",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[EXTENSION] = oauth.provider


def sso_enabled() -> bool:
    return EXTENSION in current_app.extensions


def _client():
    if not sso_enabled():
        abort(404)
    return current_app.extensions[EXTENSION]


def _metadata(client) -> dict:
    try:
        metadata = client.load_server_metadata()
    except (RequestException, ValueError) as exc:
        raise SignInRefused(f"the identity provider cannot be reached ({exc.__class__.__name__}); try again "
                            "shortly, or tell an admin") from None
    configured = current_app.config["OIDC_ISSUER"].rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != configured:
        client.server_metadata = {}  # look again next time: the provider may be fixed meanwhile
        raise SignInRefused(f"the identity provider calls itself {str(metadata.get('issuer'))[:200]!r}, not the "
                            f"configured issuer {configured!r} (CONSOLE_OIDC_ISSUER)")
    return metadata


def _why(exc: Exception) -> str:
    """The refusal in words, from what Authlib or the JOSE library raised."""
    if isinstance(exc, MismatchingStateError):
        return "this sign-in was already used or has expired (its state does not match); start again"
    if isinstance(exc, ExpiredTokenError):
        return "the provider's ID token has expired; start again, and check the server's clock"
    if isinstance(exc, BadSignatureError):
        return "the ID token's signature does not verify against the provider's keys"
    if isinstance(exc, (InvalidClaimError, MissingClaimError)):
        claim = getattr(exc, "claim", "") or str(exc)
        names = {"iss": "it was issued by another provider", "aud": "it was issued for another client",
                 "azp": "it was issued for another client",
                 "nonce": "its nonce does not match this sign-in", "exp": "it has expired"}
        return f"the ID token is not valid: {names.get(claim, claim)}"
    if isinstance(exc, OAuthError):
        return f"the identity provider refused the sign-in ({exc.error}: {(exc.description or '')[:200]})"
    if isinstance(exc, JoseError):
        return f"the ID token cannot be read ({exc.__class__.__name__})"
    if isinstance(exc, RequestException):
        return f"the identity provider cannot be reached ({exc.__class__.__name__})"
    return f"the sign-in failed ({exc.__class__.__name__})"


def _staff_for(userinfo) -> object:
    email = normalize_email(str(userinfo.get("email") or ""))
    if not email:
        raise SignInRefused("the identity provider did not share an email address (scope 'email')")
    if userinfo.get("email_verified") is not True:
        raise SignInRefused(f"the identity provider has not verified the email {email}; verify it there first")
    user = find_user(console_session(), email)
    if user is None or not user.active:
        # Never created on the fly: a role is the console's to give, by an admin.
        raise SignInRefused(f"{email} has no active staff account here; an admin must create it first")
    return user


def _refuse(reason: str, actor: str = "unknown"):
    try:
        begin_writing(console_session())  # the callback is a GET that has read: on SQLite, the lock first
        record_event(console_session(), actor=actor[:254], action="login.failed", subject_type="user",
                     details={"method": "oidc", "reason": reason, "address": request.remote_addr or ""})
    except AuditUnavailable:
        reason += " (and the audit trail cannot be written right now)"
    flash(f"Single sign-on refused: {reason}.", "error")
    return render_template("auth/login.html", form=LoginForm(), demo=current_app.config.get("DEMO"),
                           sso=True, password_login=current_app.config["PASSWORD_LOGIN"]), 401


@bp.route("/login/sso")
def start():
    client = _client()
    try:
        _metadata(client)
    except SignInRefused as exc:
        return _refuse(str(exc))
    session["sso_next"] = safe_next(request.args.get("next"))
    return client.authorize_redirect(url_for("sso.callback", _external=True))


@bp.route("/login/sso/callback")
def callback():
    client = _client()
    try:
        _metadata(client)
        token = client.authorize_access_token()
        userinfo = token.get("userinfo")
        if not userinfo:
            raise SignInRefused("the identity provider sent no ID token")
        user = _staff_for(userinfo)
    except SignInRefused as exc:
        return _refuse(str(exc))
    except (AuthlibBaseError, JoseError, RequestException) as exc:
        return _refuse(_why(exc))
    next_url = session.pop("sso_next", None) or safe_next(None)
    try:
        begin_writing(console_session())
        begin_session(user, method="oidc")
    except AuditUnavailable:
        flash("Logging in is unavailable right now: the audit trail cannot be written. Try again shortly.", "error")
        return redirect(url_for("auth.login"))
    return redirect(next_url)
