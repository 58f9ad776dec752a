"""CSRF on every state-changing browser route, and no state changes on GET."""
from __future__ import annotations

import hashlib

from sqlalchemy import text

from tests.factories import CustomerFactory, OrderFactory
from tests.security.test_matrix import SAMPLE_ARGS, STATIC_FILES, served_routes

WRONG_TOKEN = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.AAAAAA.forged-signature"


def _url(rule, customer, order):
    values = dict(SAMPLE_ARGS, customer_id=customer.id, order_id=order.id, run_id=1)
    if rule.endpoint in STATIC_FILES:
        values = {"filename": STATIC_FILES[rule.endpoint]}
    return rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]


def _browser_posts(app):
    return [rule for rule, method in served_routes(app)
            if method == "POST" and not rule.rule.startswith("/api/") and rule.endpoint != "auth.login"]


def test_every_browser_post_rejects_a_missing_or_wrong_token(app, client, login_as):
    login_as("admin")
    customer = CustomerFactory()
    order = OrderFactory(customer_id=customer.id)
    posts = _browser_posts(app)
    assert len(posts) > 20  # the walk really covers the app, Flask-Admin's actions and deletes included
    accepted = []
    for rule in posts:
        url = _url(rule, customer, order)
        for data in ({}, {"csrf_token": WRONG_TOKEN}):
            response = client.post(url, data=dict(data, ids="1", url="/admin/"))
            if response.status_code != 400 or "CSRF" not in response.get_data(as_text=True):
                accepted.append(f"{url} with {data or 'no token'}: {response.status_code}")
    assert not accepted, "\n".join(accepted)


def test_login_form_rejects_a_missing_token(client, make_user):
    user = make_user("agent")
    response = client.post("/login", data={"email": user.email, "password": "x" * 12})
    assert response.status_code == 400


def test_session_api_calls_need_the_header_token(client, login_as):
    login_as("agent")
    response = client.post("/api/v1/tickets/T-CSRF/outcome", json={"outcome": "resolved"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


def _fingerprint(target_db, console_db) -> dict:
    """Checksums of every business table in both databases (GETs may add views and audit reads only)."""
    prints = {}
    for session, tables in (
        (target_db, ("customers", "orders", "order_items", "payments", "refunds", "shipments", "email_outbox")),
        (console_db, ("staff_users", "api_tokens", "task_runs", "tickets")),
    ):
        for table in tables:
            rows = session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            prints[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return prints


def test_no_business_state_changes_on_get(app, client, login_as, console_db, target_db):
    login_as("admin")
    customer = CustomerFactory()
    order = OrderFactory(customer_id=customer.id)
    console_db.flush()
    target_db.flush()
    before = _fingerprint(target_db, console_db)
    for rule, method in served_routes(app):
        if method == "GET":
            client.get(_url(rule, customer, order)).close()
    console_db.expire_all()
    target_db.expire_all()
    after = _fingerprint(target_db, console_db)
    changed = [table for table in before if before[table] != after[table]]
    assert not changed, f"GET requests changed: {changed}"
