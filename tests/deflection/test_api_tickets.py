"""POST /api/v1/tickets/<ref>/outcome and GET /api/v1/tickets/<ref> (docs/API.md, "Tickets and outcomes")."""
import pytest
from sqlalchemy import func, select

from console.deflection.models import Ticket, TicketEvent


def post_outcome(client, headers, ref, body):
    return client.post(f"/api/v1/tickets/{ref}/outcome", json=body, headers=headers)


def test_recording_an_outcome_creates_the_ticket_and_reading_it_back(client, api_token):
    _user, headers = api_token("agent")
    response = post_outcome(client, headers, "HD-100", {"outcome": "escalated", "escalation_class": "small_change",
                                                        "category": "Orders", "missing_tool": "a split task",
                                                        "note": "checked"})
    assert response.status_code == 200
    ticket = response.get_json()["ticket"]
    assert (ticket["ref"], ticket["outcome"], ticket["category"], ticket["escalation_class"]) \
        == ("HD-100", "escalated", "orders", "small_change")
    read = client.get("/api/v1/tickets/HD-100", headers=headers).get_json()["ticket"]
    assert read["outcome"] == "escalated"
    assert [event["kind"] for event in read["events"]] == ["escalated"]
    assert read["events"][0]["missing_tool"] == "a split task"


def test_recording_the_same_outcome_twice_is_idempotent(client, api_token, console_db):
    _user, headers = api_token("lead")
    body = {"outcome": "resolved", "category": "account"}
    first = post_outcome(client, headers, "HD-101", body).get_json()
    second = post_outcome(client, headers, "HD-101", body).get_json()
    assert (first["changed"], second["changed"]) == (True, False)
    assert first["ticket"]["outcome"] == second["ticket"]["outcome"] == "resolved"
    count = console_db.scalar(select(func.count(TicketEvent.id)).join(Ticket).where(Ticket.ref == "HD-101"))
    assert count == 1


@pytest.mark.parametrize("body, field", [
    ({"outcome": "closed"}, "outcome"),
    ({}, "outcome"),
    ({"outcome": "escalated"}, "escalation_class"),
    ({"outcome": "escalated", "escalation_class": "big"}, "escalation_class"),
    ({"outcome": "resolved", "note": ["x"]}, "note"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(client, api_token, console_db, body, field):
    _user, headers = api_token("agent")
    response = post_outcome(client, headers, "HD-102", body)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]
    assert console_db.scalar(select(Ticket).where(Ticket.ref == "HD-102")) is None


def test_a_body_that_is_not_json_is_a_400(client, api_token):
    _user, headers = api_token("agent")
    response = client.post("/api/v1/tickets/HD-103/outcome", data="outcome=resolved", headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


def test_an_overlong_reference_is_a_400_naming_the_ticket(client, api_token):
    _user, headers = api_token("agent")
    response = post_outcome(client, headers, "x" * 121, {"outcome": "resolved"})
    assert response.status_code == 400 and "ticket" in response.get_json()["error"]["fields"]


def test_an_unknown_ticket_is_a_404(client, api_token):
    _user, headers = api_token("developer")
    response = client.get("/api/v1/tickets/HD-nope", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_roles_without_tickets_are_refused(client, api_token):
    _user, headers = api_token("product_owner")
    assert post_outcome(client, headers, "HD-104", {"outcome": "resolved"}).status_code == 403
    assert client.get("/api/v1/tickets/HD-104", headers=headers).status_code == 403
    assert client.get("/api/v1/tickets/HD-104").status_code == 401


def test_a_helpdesk_can_reopen_and_a_developer_can_log_time(client, api_token):
    _agent, agent_headers = api_token("agent")
    post_outcome(client, agent_headers, "HD-105", {"outcome": "resolved"})
    reopened = post_outcome(client, agent_headers, "HD-105", {"outcome": "reopened"}).get_json()["ticket"]
    assert reopened["outcome"] == "open"
    post_outcome(client, agent_headers, "HD-105", {"outcome": "escalated", "escalation_class": "specialist",
                                                        "missing_tool": "a tool"})
    _dev, dev_headers = api_token("developer")
    whys = {"why_1": "a", "why_2": "b", "why_3": "c", "why_4": "d", "root_cause": "e", "action_kind": "task",
            "action": "a retry task"}
    response = client.post("/api/v1/tickets/HD-105/dev-time", json={"minutes": 30, "close": True, "five_whys": whys},
                           headers=dev_headers)
    assert response.status_code == 200
    ticket = response.get_json()["ticket"]
    assert (ticket["dev_minutes"], ticket["outcome"]) == (30, "escalated")
    assert ticket["escalation_closed_at"] is not None
    bad = client.post("/api/v1/tickets/HD-105/dev-time", json={"minutes": 0}, headers=dev_headers)
    assert bad.status_code == 400 and "minutes" in bad.get_json()["error"]["fields"]
    assert client.post("/api/v1/tickets/HD-none/dev-time", json={"minutes": 5},
                       headers=dev_headers).status_code == 404
    assert client.post("/api/v1/tickets/HD-105/dev-time", json={"minutes": 5},
                       headers=agent_headers).status_code == 403


def test_a_browser_session_needs_the_csrf_header(client, auth, login_as):
    login_as("agent")
    assert client.post("/api/v1/tickets/HD-106/outcome", json={"outcome": "resolved"}).status_code == 400
    response = client.post("/api/v1/tickets/HD-106/outcome", json={"outcome": "resolved"},
                           headers={"X-CSRFToken": auth.csrf()})
    assert response.status_code == 200
