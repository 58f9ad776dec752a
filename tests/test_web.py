"""Health check, security headers and error answers."""
import re

import pytest

from tests.committed import console_database_down, make_committed_user
from tests.conftest import AuthActions


def test_healthz_answers_ok_when_both_databases_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_when_a_database_is_down(isolated_app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    app = isolated_app()
    dbs = app.extensions["console_db"]

    def refuse(*args, **kwargs):
        raise OperationalError("connect", {}, Exception("connection refused"))

    monkeypatch.setattr(dbs.target_engine, "connect", refuse)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # only over HTTPS


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_page_is_a_clean_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_logged_request_paths_cannot_forge_log_lines(app, caplog):
    """A path with an encoded newline is logged escaped (%r), on one line, never as two lines."""
    forged = "/x%0A2026-01-01 INFO admin@example.com logged in"
    with app.test_request_context(forged), caplog.at_level("ERROR"):
        response = app.handle_user_exception(RuntimeError("boom"))
    status = response[1] if isinstance(response, tuple) else response.status_code
    assert status == 500
    messages = [record.getMessage() for record in caplog.records if "unhandled error" in record.getMessage()]
    assert messages and all("\n" not in message for message in messages)
    assert "\\n2026-01-01" in messages[0]


def test_oversized_bodies_are_refused_before_they_are_read(client):
    response = client.post("/api/v1/tickets/T-1/outcome", data=b"x" * (2 * 1024 * 1024),
                           headers={"Content-Type": "application/json", "Authorization": "Bearer sc_nope"})
    assert response.status_code in (401, 413)
    browser = client.post("/login", data={"email": "a@b.c", "password": "x" * (2 * 1024 * 1024)})
    assert browser.status_code == 413


def test_the_icon_browsers_ask_for_is_served_without_a_login(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header, not an HTML error page


def test_every_script_carries_this_requests_nonce_though_the_page_frame_is_reused(client, login_as):
    login_as("agent")
    seen = set()
    for _ in range(3):  # the first renders the frame, the others reuse it
        response = client.get("/admin/records/customers/")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        scripts = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
        assert len(scripts) > 5 and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
        seen.add(nonce)
    assert len(seen) == 3


def test_the_root_sends_a_visitor_to_log_in_and_a_logged_in_user_home(client, login_as):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    login_as("agent")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("path", ["/admin/", "/admin/runs/", "/admin/audit/", "/admin/tickets/", "/login", "/"])
def test_pages_answer_503_with_the_error_page_when_the_console_database_is_down(isolated_app, tmp_path, path):
    app = isolated_app()
    email = make_committed_user(app, "lead")
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    with console_database_down(app, tmp_path):
        response = client.get(path)
        health = client.get("/healthz")
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:500]
    assert "A database is unavailable" in html and "<title>A database is unavailable · Support Console</title>" in html
    assert 'href="/admin/"' in html  # the way back, once it is up again
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"


def test_a_pages_csrf_token_is_signed_once_a_minute_and_each_session_gets_its_own(app, client, login_as, make_user,
                                                                                 monkeypatch):
    import flask_wtf.csrf

    from console import web
    from tests.conftest import csrf_token_from

    clock, signed = [1_000_000.0], []
    app.jinja_env.globals["csrf_token"]._clock = lambda: clock[0]

    class CountedSigner(flask_wtf.csrf.URLSafeTimedSerializer):
        def dumps(self, *args, **kwargs):
            signed.append(1)
            return super().dumps(*args, **kwargs)

    monkeypatch.setattr(flask_wtf.csrf, "URLSafeTimedSerializer", CountedSigner)
    login_as("agent")
    signed.clear()
    first = csrf_token_from(client.get("/admin/records/customers/").get_data(as_text=True))
    assert csrf_token_from(client.get("/admin/records/customers/").get_data(as_text=True)) == first
    assert len(signed) == 1  # the second page reused the first page's token
    clock[0] += web.CSRF_RESIGN_SECONDS
    client.get("/admin/records/customers/")
    assert len(signed) == 2  # a new minute: signed anew

    second = app.test_client()
    AuthActions(second).login(make_user("agent").email)
    assert csrf_token_from(second.get("/admin/records/customers/").get_data(as_text=True)) != first
    # The reused token is accepted as Flask-WTF's own: logging out with it works.
    assert client.post("/logout", data={"csrf_token": first}).status_code == 302


def test_a_security_header_the_view_set_is_kept(isolated_app):
    app = isolated_app()

    @app.route("/test-own-cache-header")
    def own_header():
        return "ok", 200, {"Cache-Control": "max-age=60", "X-Frame-Options": "SAMEORIGIN"}

    response = app.test_client().get("/test-own-cache-header")
    assert response.headers.getlist("Cache-Control") == ["max-age=60"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_answers_become_json_the_one_way_the_audit_writes_values(app):
    from datetime import date, datetime
    from decimal import Decimal

    from flask import jsonify

    from console.jsontext import jsonable

    value = {"at": datetime(2026, 12, 6, 18, 30), "day": date(2026, 12, 6), "amount": Decimal("2.50")}
    with app.test_request_context():
        assert jsonify(value).get_json() == jsonable(value) == {
            "at": "2026-12-06T18:30:00", "day": "2026-12-06", "amount": "2.50"}
