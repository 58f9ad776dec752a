"""The authorization matrix: every endpoint × method × role against tests/security/policy.py."""
from __future__ import annotations

import pytest

from console.tasks.models import TaskRun
from tests.conftest import csrf_token_from
from tests.factories import CustomerFactory, OrderFactory
from tests.security.policy import POLICY, PUBLIC

ROLES = ("anonymous", "agent", "lead", "product_owner", "developer", "admin", "disabled")
SAMPLE_ARGS = {
    "export_type": "csv",
    "seq": 1,
    "task_name": "unlock_account",
    "name": "unlock_account",
    "slug": "cannot-log-in",
    "ref": "T-MATRIX",
    "panel": "deflection",
    "record": "customers",
    "key": 1,
    "bulk_id": 1,
}
STATIC_FILES = {"static": "console.css", "admin.static": "admin/css/bootstrap4/admin.css"}


def served_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_endpoint_is_in_the_policy_table(app):
    served = {(rule.endpoint, method) for rule, method in served_routes(app)}
    missing = sorted(served - set(POLICY))
    stale = sorted(set(POLICY) - served)
    assert not missing, f"endpoints with no reviewed policy (add them to tests/security/policy.py): {missing}"
    assert not stale, f"policy rows for endpoints that no longer exist: {stale}"


def _url(rule, customer_id, order_id, run_id):
    values = dict(SAMPLE_ARGS, customer_id=customer_id, order_id=order_id, run_id=run_id, key=customer_id)
    if rule.endpoint in STATIC_FILES:
        values = {"filename": STATIC_FILES[rule.endpoint]}
    return rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]


def _verdict(response, api: bool) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if response.status_code == 403:
        return "forbidden"
    if api and response.status_code == 401:
        return "login"
    if not api and response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return "login"
    return "allowed"


def _expected(allowed, role: str) -> str:
    if role in ("anonymous", "disabled"):
        return "login"
    return "allowed" if role in allowed else "forbidden"


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_exactly_what_the_policy_says(app, client, auth, make_user, api_token, console_db, role):
    customer = CustomerFactory()
    order = OrderFactory(customer_id=customer.id)
    # a real pending run by someone else, so run endpoints answer on an existing object
    someone_else = make_user("agent")
    run = TaskRun(task="refund_order", status="pending_approval", ticket="T-MATRIX", reason="matrix",
                  actor=someone_else.email, actor_id=someone_else.id, risk="high")
    console_db.add(run)
    console_db.flush()
    headers = {}
    if role not in ("anonymous",):
        user_role = "agent" if role == "disabled" else role
        user, headers = api_token(user_role)
        assert auth.login(user.email).status_code == 302
        if role == "disabled":
            from console.auth.services import set_active

            set_active(console_db, user, False, actor="admin@example.com")
    token_page = "/login" if role in ("anonymous", "disabled") else "/admin/"
    csrf = csrf_token_from(client.get(token_page).get_data(as_text=True))

    wrong = []
    for rule, method in served_routes(app):
        if rule.endpoint == "auth.logout":
            continue  # logging out mid-walk would change the role under test; covered in tests/auth
        allowed = POLICY[(rule.endpoint, method)]
        api = rule.rule.startswith("/api/") or rule.rule == "/metrics"
        url = _url(rule, customer.id, order.id, run.id)
        if api:
            response = client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
        else:
            response = client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        got = _verdict(response, api)
        response.close()  # static files are streamed
        if allowed == PUBLIC:
            if got.startswith("error") or got == "forbidden":
                wrong.append(f"{method} {url}: {got}, expected public")
            continue
        expected = _expected(allowed, role)
        if got != expected:
            wrong.append(f"{method} {url} ({rule.endpoint}): {got}, expected {expected}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
