"""Single sign-on against a real OpenID Connect provider (oidc-provider on loopback)."""
from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from console.audit.models import AuditEntry
from console.auth.models import StaffUser
from console.config import ConfigError, load_config
from tests.auth.oidc import CLIENT_ID, start_provider
from tests.conftest import TEST_AUDIT_KEY
from tests.factories import StaffUserFactory

CALLBACK = "http://localhost/login/sso/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running = start_provider(tmp_path_factory.mktemp("oidc"), [CALLBACK])
    yield running
    running.stop()


@pytest.fixture
def sso_app(isolated_app, provider):
    app = isolated_app(**provider.config())
    dbs = app.extensions["console_db"]
    with dbs.console_factory() as session:
        for email, active in (("sso.agent@example.com", True), ("sso.disabled@example.com", False)):
            session.add(StaffUser(email=email, name="Sso", role="agent", password_hash=None, active=active))
        session.commit()
    return app


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _sign_in(client, provider, login: str, next_path: str | None = None):
    start = client.get("/login/sso" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    back = provider.sign_in(start.headers["Location"], login)
    assert back.startswith(CALLBACK), back
    return back, client.get(_path(back))


def _entries(app, action: str) -> list[AuditEntry]:
    with app.extensions["console_db"].console_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def _refused(response, words: str):
    assert response.status_code == 401, response.get_data(as_text=True)[:800]
    page = response.get_data(as_text=True)
    assert "Single sign-on refused" in page and words in page, page[:3000]


def test_a_staff_member_signs_in_through_the_provider_with_pkce(sso_app, provider):
    client = sso_app.test_client()
    start = client.get("/login/sso")
    query = urlsplit(start.headers["Location"]).query
    assert "code_challenge_method=S256" in query and "nonce=" in query and "state=" in query
    _, response = _sign_in(client, provider, "agent", next_path="/admin/runs/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/runs/"
    assert client.get("/admin/").status_code == 200
    login = _entries(sso_app, "login")[-1]
    assert login.actor == "sso.agent@example.com" and json.loads(login.details)["method"] == "oidc"


def test_a_replayed_callback_is_refused_and_audited(sso_app, provider):
    client = sso_app.test_client()
    back, first = _sign_in(client, provider, "agent")
    assert first.status_code == 302
    client.post("/logout", data={"csrf_token": _csrf(client)})
    _refused(client.get(_path(back)), "already used")
    failed = _entries(sso_app, "login.failed")[-1]
    assert json.loads(failed.details)["method"] == "oidc" and "state" in json.loads(failed.details)["reason"]
    assert client.get("/admin/").status_code == 302  # still logged out


def _csrf(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/admin/").get_data(as_text=True))


@pytest.mark.parametrize("login, words", [
    ("unverified", "has not verified the email sso.unverified@example.com"),
    ("stranger", "nobody.here@example.com has no active staff account here"),
    ("disabled", "sso.disabled@example.com has no active staff account here"),
])
def test_who_the_console_does_not_know_or_trust_is_refused(sso_app, provider, login, words):
    client = sso_app.test_client()
    _, response = _sign_in(client, provider, login)
    _refused(response, words)
    assert words in json.loads(_entries(sso_app, "login.failed")[-1].details)["reason"]
    assert client.get("/admin/").status_code == 302
    with sso_app.extensions["console_db"].console_factory() as session:
        assert session.scalar(select(StaffUser).where(StaffUser.email == "nobody.here@example.com")) is None


def _forged_callback(sso_app, client, provider, monkeypatch, **claims_override):
    """Start a real sign-in, then answer the code exchange with an ID token made here."""
    start = client.get("/login/sso")
    state = dict(part.split("=", 1) for part in urlsplit(start.headers["Location"]).query.split("&"))["state"]
    with client.session_transaction() as session:
        nonce = session[f"_state_provider_{state}"]["data"]["nonce"]
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "agent", "email": "sso.agent@example.com",
              "email_verified": True, "nonce": nonce, "iat": now, "exp": now + 300}
    key = claims_override.pop("key", provider.key)
    claims.update(claims_override)
    id_token = jwt.encode({"alg": "RS256", "kid": provider.key.kid}, claims, key)
    oauth_client = sso_app.extensions["console_sso"]
    monkeypatch.setattr(oauth_client, "fetch_access_token",
                        lambda **_: {"access_token": "at", "token_type": "Bearer", "id_token": id_token})
    return client.get(f"/login/sso/callback?code=forged&state={state}")


def test_a_well_made_token_signs_in_so_the_forgeries_below_fail_only_for_their_flaw(sso_app, provider, monkeypatch):
    client = sso_app.test_client()
    assert _forged_callback(sso_app, client, provider, monkeypatch).status_code == 302


@pytest.mark.parametrize("flaw, words", [
    ({"exp": int(time.time()) - 3600}, "has expired"),
    ({"iss": "https://evil.example"}, "issued by another provider"),
    ({"aud": "another-client"}, "issued for another client"),
    ({"nonce": "not-this-sign-in"}, "nonce does not match"),
    ({"key": RSAKey.generate_key(2048)}, "signature does not verify"),
])
def test_a_flawed_id_token_is_refused_with_its_reason_and_audited(sso_app, provider, monkeypatch, flaw, words):
    client = sso_app.test_client()
    _refused(_forged_callback(sso_app, client, provider, monkeypatch, **flaw), words)
    assert words.split(" ")[-1] in json.loads(_entries(sso_app, "login.failed")[-1].details)["reason"]
    assert client.get("/admin/").status_code == 302


def test_a_provider_that_names_another_issuer_is_refused(isolated_app, tmp_path):
    port_probe = start_provider(tmp_path, [CALLBACK], issuer="http://localhost:1")
    try:
        app = isolated_app(**port_probe.config())
        response = app.test_client().get("/login/sso")
        _refused(response, "not the configured issuer")
        assert "CONSOLE_OIDC_ISSUER" in response.get_data(as_text=True)
    finally:
        port_probe.stop()


def test_password_login_can_be_turned_off(isolated_app, provider):
    app = isolated_app(PASSWORD_LOGIN="0", **provider.config())
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with single sign-on" in page and 'name="password"' not in page
    with app.extensions["console_db"].console_factory() as session:
        StaffUserFactory._meta.sqlalchemy_session = None
        from console.auth.services import create_user

        create_user(session, "pw.user@example.com", "agent", "correct horse battery staple")
        session.commit()
    response = client.post("/login", data={"email": "pw.user@example.com", "password": "correct horse battery staple"})
    assert response.status_code in (400, 403)
    assert client.get("/admin/").status_code == 302


def test_sign_in_settings_are_checked_at_start_up(monkeypatch):
    base = {"SECRET_KEY": "s", "CONSOLE_AUDIT_KEY": TEST_AUDIT_KEY}
    cases = [
        ({"OIDC_ISSUER": "https://id.example.com"}, "CONSOLE_OIDC_CLIENT_ID"),
        ({"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "c"}, "CONSOLE_OIDC_CLIENT_SECRET"),
        ({"OIDC_ISSUER": "http://id.example.com", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},
         "CONSOLE_OIDC_ISSUER must be an https"),
        ({"PASSWORD_LOGIN": "0"}, "CONSOLE_PASSWORD_LOGIN=0 needs CONSOLE_OIDC_ISSUER"),
        ({"PASSWORD_LOGIN": "maybe"}, "CONSOLE_PASSWORD_LOGIN must be 1 or 0"),
    ]
    for overrides, message in cases:
        with pytest.raises(ConfigError, match=message):
            load_config({**base, **overrides})
    assert load_config({**base, "OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "c",
                        "OIDC_CLIENT_SECRET": secrets.token_hex(8)})["PASSWORD_LOGIN"] is True


def test_without_an_issuer_the_sso_routes_are_404(client):
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    assert "single sign-on" not in client.get("/login").get_data(as_text=True)
