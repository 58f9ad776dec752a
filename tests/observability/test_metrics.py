"""/metrics: who may scrape it, and that each metric moves with what it counts."""
from prometheus_client.parser import text_string_to_metric_families

from console.permissions import VIEW_METRICS, role_can

METRICS_TOKEN = "m" * 32


def scrape(client, headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_no_token_is_a_401_and_an_agent_token_a_403(client, api_token):
    response = client.get("/metrics")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    _, headers = api_token("agent")
    assert client.get("/metrics", headers=headers).status_code == 403


def test_only_admins_hold_the_metrics_permission():
    assert [role for role in ("agent", "lead", "product_owner", "developer", "admin")
            if role_can(role, VIEW_METRICS)] == ["admin"]


def test_the_configured_metrics_token_may_scrape(app, client):
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    try:
        assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
        assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN[:-1]}x"}).status_code == 401
    finally:
        app.config["METRICS_TOKEN"] = ""


def test_requests_are_counted_by_route_pattern_and_status_with_their_latency(client, api_token):
    _, headers = api_token("admin")
    before = scrape(client, headers)
    client.get("/api/v1/runs/999999", headers=headers)
    client.get("/api/v1/runs/999998", headers=headers)
    after = scrape(client, headers)
    labels = {"method": "GET", "route": "/api/v1/runs/<int:run_id>"}
    assert value(after, "console_http_requests_total", status="404", **labels) \
        - value(before, "console_http_requests_total", status="404", **labels) == 2
    assert value(after, "console_http_request_duration_seconds_count", **labels) \
        - value(before, "console_http_request_duration_seconds_count", **labels) == 2


def test_failed_logins_are_counted(client, auth, api_token):
    _, headers = api_token("admin")
    before = scrape(client, headers)
    assert auth.login("nobody@example.com", "wrong password").status_code == 401
    after = scrape(client, headers)
    assert value(after, "console_login_failures_total") - value(before, "console_login_failures_total") == 1
    assert value(after, "console_audit_entries_total", action="login.failed") \
        - value(before, "console_audit_entries_total", action="login.failed") == 1


def test_runs_are_counted_by_task_and_status_and_approvals_waiting_are_shown(client, api_token, demo_shop):
    _, admin = api_token("admin")
    _, agent = api_token("agent")
    before = scrape(client, admin)
    body = {"params": {"email": "locked@example.com"}, "ticket": "T-1", "reason": "customer called"}
    assert client.post("/api/v1/tasks/unlock_account/runs", json=body, headers=agent).status_code == 201
    big_refund = {"params": {"order_id": 1004, "amount_cents": 20000}, "ticket": "T-1", "reason": "returned"}
    response = client.post("/api/v1/tasks/refund_order/runs", json=big_refund, headers=agent)
    assert response.get_json()["run"]["status"] == "pending_approval"
    after = scrape(client, admin)
    assert value(after, "console_task_runs_total", task="unlock_account", status="succeeded") \
        - value(before, "console_task_runs_total", task="unlock_account", status="succeeded") == 1
    assert value(after, "console_task_runs_total", task="refund_order", status="pending_approval") \
        - value(before, "console_task_runs_total", task="refund_order", status="pending_approval") == 1
    assert value(after, "console_approvals_waiting") - value(before, "console_approvals_waiting") == 1
    assert value(after, "console_audit_head_seq") > value(before, "console_audit_head_seq")


def test_a_rolled_back_audit_entry_is_not_counted(app, client, api_token, console_db):
    from console.audit.chain import append

    _, headers = api_token("admin")
    before = scrape(client, headers)
    with app.test_request_context():
        console_db.begin_nested()
        append(console_db, actor="test", action="test.rolled_back")
        console_db.rollback()
        append(console_db, actor="test", action="test.kept")
        console_db.commit()
    after = scrape(client, headers)
    assert value(after, "console_audit_entries_total", action="test.rolled_back") == 0
    assert value(after, "console_audit_entries_total", action="test.kept") \
        - value(before, "console_audit_entries_total", action="test.kept") == 1
