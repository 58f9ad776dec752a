"""GET /api/v1/runbooks and /api/v1/runbooks/<slug> (docs/API.md, "Runbooks")."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from console.runbooks.library import RunbookLibrary
from console.runbooks.models import RunbookSearchMiss


@pytest.fixture
def api_token(app, api_token):
    """The shared fixture, inside an app context (its session is the app's scoped one)."""

    def make(role: str = "agent"):
        with app.app_context():
            return api_token(role)

    return make


def test_list_needs_a_token(client):
    response = client.get("/api/v1/runbooks")

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_list_describes_every_runbook(client, api_token):
    _user, headers = api_token("product_owner")

    body = client.get("/api/v1/runbooks", headers=headers).get_json()

    by_slug = {item["slug"]: item for item in body["runbooks"]}
    assert len(by_slug) >= 10
    login = by_slug["cannot-log-in"]
    assert login["title"] == "Customer cannot log in" and login["category"] == "account"
    assert login["tasks"] == ["unlock_account", "resend_confirmation_email", "send_password_reset"]
    assert login["escalate_to"] == {"class": "specialist", "team": "accounts-team"}
    assert login["error"] is None and "html" not in login


def test_search_orders_by_relevance_and_records_misses(client, api_token, console_db):
    user, headers = api_token("agent")

    found = client.get("/api/v1/runbooks", query_string={"q": "where's my parcel"}, headers=headers).get_json()
    missing = client.get("/api/v1/runbooks", query_string={"q": "loyalty points expired"}, headers=headers)

    assert found["runbooks"][0]["slug"] == "where-is-my-order"
    assert found["runbooks"][0]["matched_symptoms"]
    assert missing.status_code == 200 and missing.get_json() == {"runbooks": []}
    assert [(m.query, m.actor) for m in console_db.scalars(select(RunbookSearchMiss))] == [
        ("loyalty points expired", user.email)]


def test_one_runbook_has_the_contract_fields_and_safe_html(client, api_token):
    _user, headers = api_token("agent")

    response = client.get("/api/v1/runbooks/cannot-log-in", headers=headers)

    body = response.get_json()
    assert response.status_code == 200
    assert {"slug", "title", "category", "tasks", "html"} <= set(body)
    assert body["slug"] == "cannot-log-in"
    assert 'data-task="unlock_account"' in body["html"] and 'href="/admin/tasks/unlock_account/' in body["html"]
    assert "{customer.email}" not in body["html"]  # unknown placeholders are dropped, not shown
    assert body["checklist"][0]["id"].startswith("cannot-log-in:")
    assert "what-to-check-first" in [heading["anchor"] for heading in body["headings"]]


@pytest.mark.parametrize("slug", ["no-such-runbook", "..%2F..%2Fetc%2Fpasswd", "%00"])
def test_unknown_slug_is_a_json_404(client, api_token, slug):
    _user, headers = api_token("agent")

    response = client.get(f"/api/v1/runbooks/{slug}", headers=headers)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_broken_runbook_is_described_with_its_error(client, api_token, app, tmp_path, monkeypatch):
    (tmp_path / "broken.md").write_text("---\ntitle: [\n---\nbody\n")
    monkeypatch.setitem(app.extensions, "runbooks", RunbookLibrary(tmp_path))
    _user, headers = api_token("agent")

    listed = client.get("/api/v1/runbooks", headers=headers).get_json()["runbooks"]
    one = client.get("/api/v1/runbooks/broken", headers=headers)

    assert listed[0]["slug"] == "broken" and listed[0]["error"].startswith("broken.md:3: front matter is not valid")
    assert one.status_code == 200 and one.get_json()["error"] == listed[0]["error"]


@pytest.mark.parametrize("query", ["x" * 10_000, "\x00\x01", "<script>", "%%%"])
def test_any_query_is_answered(client, api_token, query):
    _user, headers = api_token("agent")

    assert client.get("/api/v1/runbooks", query_string={"q": query}, headers=headers).status_code == 200
