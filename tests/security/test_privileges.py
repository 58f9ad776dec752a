"""Privilege changes take effect at once; tokens and cookies carry no role of their own."""
from console.auth.services import set_role
from console.tasks.models import TaskRun
from tests.conftest import csrf_token_from


def _pending_run(console_db, actor="someone@example.com"):
    run = TaskRun(task="refund_order", status="pending_approval", ticket="T-PRIV", reason="check",
                  actor=actor, risk="high")
    console_db.add(run)
    console_db.flush()
    return run


def test_a_revoked_role_stops_an_api_token_on_the_next_request(client, api_token, console_db):
    lead, headers = api_token("lead")
    run = _pending_run(console_db)
    assert client.get("/api/v1/audit", headers=headers).status_code == 200
    set_role(console_db, lead, "agent", actor="admin@example.com")
    assert client.get("/api/v1/audit", headers=headers).status_code == 403
    response = client.post(f"/api/v1/runs/{run.id}/approve", json={"reason": "ok"}, headers=headers)
    assert response.status_code == 403


def test_a_disabled_users_token_is_refused(client, api_token, console_db):
    from console.auth.services import set_active

    user, headers = api_token("agent")
    assert client.get("/api/v1/runbooks", headers=headers).status_code == 200
    set_active(console_db, user, False, actor="admin@example.com")
    assert client.get("/api/v1/runbooks", headers=headers).status_code == 401


def test_a_role_sent_in_the_request_is_ignored(client, login_as, console_db):
    login_as("agent")
    run = _pending_run(console_db)
    response = client.get("/admin/audit/?role=admin&as=admin")
    assert response.status_code == 403
    with client.session_transaction() as session:
        session["role"] = "admin"  # a forged session key; the role comes from the database only
    assert client.get("/admin/audit/").status_code == 403
    assert client.get(f"/admin/runs/{run.id}").status_code == 200


def test_an_agent_cookie_replayed_cannot_reach_lead_actions(app, client, auth, make_user, console_db):
    agent = make_user("agent")
    auth.login(agent.email)
    cookie = client.get_cookie("session").value
    run = _pending_run(console_db)
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    token = csrf_token_from(replay.get("/admin/").get_data(as_text=True))
    response = replay.post(f"/admin/runs/{run.id}/approve", data={"reason": "looks fine", "csrf_token": token})
    assert response.status_code == 403
    console_db.expire_all()
    assert console_db.get(TaskRun, run.id).status == "pending_approval"


def test_secure_cookies_and_hsts_behind_https(isolated_app, monkeypatch):
    from console.config import load_config

    monkeypatch.setenv("CONSOLE_HTTPS", "1")
    assert load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})["SESSION_COOKIE_SECURE"] is True
    app = isolated_app(SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/login", base_url="https://console.example.com")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
