"""Session lifetime: idle and absolute timeouts, cookie flags, rotation at login."""
import time

import pytest
from flask import request

from tests.conftest import csrf_token_from


REAL_TIME = time.time


def _later(monkeypatch, seconds):
    """Make the clock read `seconds` from now (time.time is patched process-wide)."""
    monkeypatch.setattr(time, "time", lambda: REAL_TIME() + seconds)


def test_idle_session_expires(client, login_as, monkeypatch):
    login_as("agent")
    assert client.get("/admin/").status_code == 200
    _later(monkeypatch, 61 * 60)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_activity_keeps_the_session_alive_until_the_absolute_limit(isolated_app, monkeypatch):
    from tests.committed import make_committed_user

    app = isolated_app(SESSION_IDLE_MINUTES=60, SESSION_ABSOLUTE_HOURS=2)
    email = make_committed_user(app, "agent")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    from tests.conftest import TEST_PASSWORD

    client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    for minutes in (50, 100):  # each request within the idle window
        _later(monkeypatch, minutes * 60)
        assert client.get("/admin/").status_code == 200
    _later(monkeypatch, 121 * 60)
    assert client.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user, auth):
    user = make_user("agent")
    response = auth.login(user.email)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; CONSOLE_HTTPS=1 turns it on


def test_login_starts_a_fresh_session(client, make_user, auth):
    user = make_user("agent")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    auth.login(user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{user.id}:")


def _session_cookies(response) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]


def test_pages_do_not_rewrite_the_session_cookie_on_every_request(client, login_as, monkeypatch):
    login_as("agent")
    client.get("/admin/")  # the first page may still add the CSRF token to the session
    assert _session_cookies(client.get("/admin/records/customers/")) == []
    _later(monkeypatch, 61)  # the idle clock is written again once a minute has passed
    assert _session_cookies(client.get("/admin/records/customers/")) != []


def test_a_short_idle_window_is_refreshed_often_enough(app, client, login_as, monkeypatch):
    # The idle clock is written at most every tenth of the window, so steady activity keeps even a
    # one-minute window open, and a minute without requests still ends it.
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    login_as("agent")
    for seconds in (50, 100, 150, 200):
        _later(monkeypatch, seconds)
        assert client.get("/admin/").status_code == 200, seconds
    _later(monkeypatch, 200 + 61)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("headers, address", [
    ({}, "10.0.0.1"),
    ({"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}, "10.0.0.2"),
    ({"X-Forwarded-For": "203.0.113.9, 10.0.0.1", "User-Agent": "curl/8"}, "10.0.0.3"),
    ({"X-Forwarded-For": " 203.0.113.7 "}, None),
])
def test_the_session_identifier_is_flask_logins_own(app, headers, address):
    from flask_login.utils import _create_identifier

    from console.auth import session_identifier

    environ = {"REMOTE_ADDR": address} if address else {}
    with app.test_request_context("/admin/", headers=headers, environ_base=environ):
        if address is None:
            request.environ.pop("REMOTE_ADDR", None)
        assert session_identifier() == _create_identifier()


def test_get_pages_pass_csrf_while_a_post_without_a_token_is_refused(client, login_as):
    login_as("agent")
    assert client.get("/admin/").status_code == 200
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/").status_code == 200  # still signed in: the refused logout did nothing
