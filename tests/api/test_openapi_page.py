"""The API reference page under /admin/api/: every route of the OpenAPI document, readable and escaped."""
from __future__ import annotations

import copy
import html
import re

import pytest
from markupsafe import escape

from console.api.openapi import openapi_document

HOSTILE = '<script>alert("api")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def document(app):
    with app.app_context():
        return openapi_document(app)


def _page(client) -> str:
    response = client.get("/admin/api/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["product_owner", "developer"])
def test_the_page_lists_every_path_and_operation_of_the_document(client, login_as, document, role):
    login_as(role)
    page = _page(client)
    shown = set(re.findall(r'<code class="api-path">([^<]+)</code>', page))
    assert shown == set(document["paths"]), sorted(set(document["paths"]) ^ shown)
    operations = sum(len(methods) for methods in document["paths"].values())
    assert page.count('class="card mb-3 api-endpoint"') == operations
    for tag in {operation["tags"][0] for methods in document["paths"].values() for operation in methods.values()}:
        assert f">{html.escape(tag)}</h2>" in page


def test_the_page_shows_a_body_its_answers_and_how_to_sign_in(client, login_as):
    login_as("agent")
    page = _page(client)
    refund = page.split('id="op-create-run-refund-order"', 1)[1].split("</article>", 1)[0]
    assert "<code>params.amount_cents</code>" in refund and "integer (money)" in refund
    assert "<code>reason</code>" in refund and "1 to 2000 characters" in refund
    assert "<code>Idempotency-Key</code>" in refund
    for status in ("201", "400", "401", "403", "404", "409", "422", "429", "503"):
        assert f"<code>{status}</code>" in refund
    outcome = page.split('id="op-record-ticket-outcome"', 1)[1].split("</article>", 1)[0]
    assert "one of <code>resolved</code>, <code>escalated</code>, <code>reopened</code>" in outcome
    assert ("<code>escalation_class</code>, <code>missing_tool</code> required when <code>outcome</code> is "
            "<code>escalated</code>") in outcome
    assert "Authorization: Bearer &lt;token&gt;" in page
    assert 'href="/api/v1/openapi.json"' in page
    assert 'id="schema-run"' in page and 'href="#schema-run"' in page


def test_the_raw_document_link_works_with_the_page_s_session(client, login_as):
    login_as("product_owner")
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.1")


def test_only_staff_who_may_issue_tokens_get_the_tokens_link(client, login_as, auth):
    login_as("admin")
    assert 'href="/admin/api_tokens/"' in _page(client).split('id="api-contents"')[0]
    auth.logout()
    login_as("developer")
    assert "/admin/api_tokens/" not in _page(client)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/api/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_hostile_text_in_the_document_is_escaped(app, client, login_as, document, monkeypatch):
    hostile = copy.deepcopy(document)
    hostile["info"]["description"] = HOSTILE + " and `" + HOSTILE + "`"
    operation = hostile["paths"]["/api/v1/runs/{run_id}/approve"]["post"]
    operation["summary"] = HOSTILE
    operation["description"] = HOSTILE
    operation["tags"] = [HOSTILE]
    operation["parameters"][0]["description"] = HOSTILE
    schemas = hostile["components"]["schemas"]
    schemas["Decision"]["properties"][HOSTILE] = {"type": "string", "enum": [HOSTILE], "pattern": HOSTILE,
                                                  "description": HOSTILE, "default": HOSTILE}
    schemas["Decision"]["description"] = HOSTILE
    schemas[HOSTILE] = {"type": "object", "properties": {"x": {"$ref": f"#/components/schemas/{HOSTILE}"}}}
    hostile["components"]["responses"]["403"]["description"] = HOSTILE
    monkeypatch.setitem(app.extensions, "openapi", hostile)
    login_as("agent")
    page = _page(client)
    assert "<script>alert" not in page and "<img src=x" not in page
    escaped = str(escape(HOSTILE))
    assert page.count(escaped) >= 10, page.count(escaped)
    assert "The JSON API" not in page  # the page was built from the hostile document, not a cached one
