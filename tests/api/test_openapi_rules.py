"""The document states the rules the API enforces: what it lets through is accepted, what it refuses is refused."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from console.tasks.models import STATUSES
from tests.factories import CustomerFactory


@pytest.fixture
def document(client, api_token):
    _, headers = api_token("admin")
    return client.get("/api/v1/openapi.json", headers=headers).get_json()


def _valid(document, name: str, value) -> bool:
    """Whether the value is valid against the component schema of this name."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema).is_valid(value)


def _parameter(document, path: str, method: str, name: str) -> dict:
    return next(p["schema"] for p in document["paths"][path][method]["parameters"] if p["name"] == name)


def test_runs_status_lists_exactly_the_statuses_and_empty_means_no_filter(client, api_token, document):
    _, headers = api_token("admin")
    status = _parameter(document, "/api/v1/runs", "get", "status")
    assert status == {"anyOf": [{"enum": list(STATUSES)}, {"type": "string", "maxLength": 0}]}
    assert client.get("/api/v1/runs?status=", headers=headers).status_code == 200
    refused = client.get("/api/v1/runs?status=done", headers=headers)
    assert refused.status_code == 400 and "status" in refused.get_json()["error"]["fields"]


def test_records_are_the_declared_names_and_an_empty_search_lists_every_row(app, client, api_token, document):
    _, headers = api_token("agent")
    CustomerFactory(email="empty.search@example.com")
    record = _parameter(document, "/api/v1/records/{record}", "get", "record")
    assert record["enum"] == list(app.extensions["product_schema"].product.records)
    for query in ("q=", "q=%20%20", "after="):
        response = client.get(f"/api/v1/records/customers?{query}", headers=headers)
        assert response.status_code == 200 and response.get_json()["items"], query
    after = _parameter(document, "/api/v1/records/{record}", "get", "after")
    bad = client.get("/api/v1/records/customers?after=not%21a%21cursor", headers=headers)
    assert after["pattern"] == "^[A-Za-z0-9_-]*$" and bad.status_code == 400


@pytest.mark.parametrize("reason, accepted", [("0", False), ("abcd", False), ("  abcd ", False), ("a\x01bcde", False),
                                              ("abcde", True), ("a   b", True), ("\tlooked up\n", True)])
def test_a_reveal_reason_is_accepted_exactly_when_the_document_allows_it(client, api_token, document, reason,
                                                                        accepted):
    _, headers = api_token("admin")
    customer = CustomerFactory()
    response = client.post(f"/api/v1/records/customers/{customer.id}/reveal", json={"reason": reason},
                           headers=headers)
    assert _valid(document, "RevealRequest", {"reason": reason}) is accepted
    assert response.status_code == (200 if accepted else 400), response.get_data(as_text=True)


def test_a_reveal_ticket_longer_than_the_document_allows_is_refused_not_cut(client, api_token, document):
    _, headers = api_token("admin")
    customer = CustomerFactory()
    body = {"reason": "checking the address", "ticket": "T" * 101}
    response = client.post(f"/api/v1/records/customers/{customer.id}/reveal", json=body, headers=headers)
    assert not _valid(document, "RevealRequest", body)
    assert response.status_code == 400 and "ticket" in response.get_json()["error"]["fields"]


def test_dev_time_on_a_ticket_never_escalated_is_a_409_the_document_lists(client, api_token, document):
    _, agent = api_token("agent")
    _, developer = api_token("developer")
    client.post("/api/v1/tickets/HD-409/outcome", json={"outcome": "resolved"}, headers=agent)
    response = client.post("/api/v1/tickets/HD-409/dev-time", json={"minutes": 5}, headers=developer)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    assert "409" in document["paths"]["/api/v1/tickets/{ref}/dev-time"]["post"]["responses"]


def test_dev_minutes_are_a_json_integer(client, api_token):
    _, agent = api_token("agent")
    _, developer = api_token("developer")
    client.post("/api/v1/tickets/HD-410/outcome", json={"outcome": "escalated", "escalation_class": "specialist",
                                                       "missing_tool": "a retry task"},
                headers=agent)
    as_text = client.post("/api/v1/tickets/HD-410/dev-time", json={"minutes": "15"}, headers=developer)
    assert as_text.status_code == 400 and "minutes" in as_text.get_json()["error"]["fields"]
    whole = client.post("/api/v1/tickets/HD-410/dev-time", json={"minutes": 15.0}, headers=developer)
    assert whole.status_code == 200 and whole.get_json()["ticket"]["dev_minutes"] == 15


@pytest.mark.parametrize("body, field", [
    ({"outcome": "reopened", "missing_tool": {}}, "missing_tool"),
    ({"outcome": "resolved", "escalation_class": 0}, "escalation_class"),
    ({"outcome": "resolved", "escalation_class": []}, "escalation_class"),
])
def test_an_outcome_field_the_document_refuses_is_refused_whatever_the_outcome(client, api_token, document, body,
                                                                               field):
    _, agent = api_token("agent")
    response = client.post("/api/v1/tickets/HD-411/outcome", json=body, headers=agent)
    assert not _valid(document, "OutcomeRequest", body)
    assert response.status_code == 400 and field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("body", [{"outcome": "resolved", "escalation_class": ""},
                                  {"outcome": "resolved", "escalation_class": None, "missing_tool": None}])
def test_an_empty_escalation_class_is_none_in_the_document_and_the_code(client, api_token, document, body):
    _, agent = api_token("agent")
    assert _valid(document, "OutcomeRequest", body)
    assert client.post("/api/v1/tickets/HD-412/outcome", json=body, headers=agent).status_code == 200
    assert not _valid(document, "OutcomeRequest", {"outcome": "escalated", "escalation_class": ""})
