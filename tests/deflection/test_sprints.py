"""Sprints: recorded over the API and the dashboard's form, set against the support tax per sprint."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from console.audit.models import AuditEntry
from console.db import utcnow

SPRINT = {"name": "Sprint 1", "starts_on": "2026-03-02", "ends_on": "2026-03-15", "planned_points": 30,
          "completed_points": 24}


def post(client, headers, body):
    return client.post("/api/v1/sprints", json=body, headers=headers)


def test_a_product_owner_records_sprints_and_reads_velocity_beside_the_support_tax(client, api_token, event,
                                                                                   console_db):
    event("S-1", "escalated", 60, escalation_class="small_change", missing_tool="a merge task")
    event("S-1", "dev_time", 120, actor="dev@example.com", minutes=90)
    event("S-2", "escalated", 60 * 24 * 15, escalation_class="knowledge", missing_tool="a runbook")  # sprint 2
    _owner, headers = api_token("product_owner")
    created = post(client, headers, SPRINT)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["sprint"]["name"] == "Sprint 1"
    for number, (start, end, done) in enumerate((("2026-03-16", "2026-03-29", 30), ("2026-03-30", "2026-04-12", 18)),
                                                start=2):
        assert post(client, headers, SPRINT | {"name": f"Sprint {number}", "starts_on": start, "ends_on": end,
                                               "completed_points": done}).status_code == 201
    today = utcnow().date()  # a sprint under way has not completed its points: the plan leaves it out
    assert post(client, headers, SPRINT | {"name": "Sprint now", "starts_on": today.isoformat(),
                                           "ends_on": (today + timedelta(days=13)).isoformat(),
                                           "completed_points": 0}).status_code == 201
    _dev, dev_headers = api_token("developer")
    answer = client.get("/api/v1/sprints", headers=dev_headers).get_json()
    first, second = answer["rows"][0], answer["rows"][1]
    assert (first["support_hours"], first["escalations"], first["capacity_hours"]) == (1.5, 1, 400.0)
    assert first["tax_share"] == round(1.5 / 400, 4) and second["escalations"] == 1
    assert answer["plan"] == {"points": 24, "low": 18, "high": 30, "sprints": 3, "tax_share": 0.0}
    assert answer["rows"][-1]["name"] == "Sprint now"
    audited = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "sprint.recorded")).all()
    assert len(audited) == 4 and audited[0].actor == _owner.email


def test_every_bad_field_is_named_at_once(client, api_token):
    _owner, headers = api_token("product_owner")
    response = post(client, headers, {"name": " ", "starts_on": "2026-02-30", "ends_on": "soon",
                                      "planned_points": -1, "completed_points": "many"})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"name", "starts_on", "ends_on", "planned_points",
                                                           "completed_points"}
    backwards = post(client, headers, SPRINT | {"ends_on": "2026-03-01"})
    assert backwards.status_code == 400 and list(backwards.get_json()["error"]["fields"]) == ["ends_on"]
    assert post(client, headers, SPRINT | {"planned_points": True}).status_code == 400
    assert post(client, headers, SPRINT | {"planned_points": "21"}).status_code == 400  # JSON numbers are numbers
    assert post(client, headers, SPRINT | {"name": "S" + " " * 60 + "1"}).status_code == 400


def test_overlapping_sprints_and_a_taken_name_are_refused(client, api_token, console_db):
    _owner, headers = api_token("admin")
    assert post(client, headers, SPRINT).status_code == 201
    overlap = post(client, headers, SPRINT | {"name": "Sprint 2", "starts_on": "2026-03-15", "ends_on": "2026-03-28"})
    assert overlap.status_code == 409 and "Sprint 1" in overlap.get_json()["error"]["fields"]["starts_on"]
    taken = post(client, headers, SPRINT | {"name": "sprint 1", "starts_on": "2026-04-01", "ends_on": "2026-04-14"})
    assert taken.status_code == 409 and list(taken.get_json()["error"]["fields"]) == ["name"]


@pytest.mark.parametrize("role", ["agent", "lead", "developer"])
def test_only_product_owners_and_admins_record_sprints(client, api_token, role):
    _user, headers = api_token(role)
    assert post(client, headers, SPRINT).status_code == 403


def test_the_dashboard_form_records_a_sprint_and_names_bad_fields(client, auth, login_as, console_db):
    login_as("product_owner")
    page = client.get("/admin/deflection/", query_string={"section": "team", "from": "2026-03-01",
                                                           "to": "2026-04-30"}).get_data(as_text=True)
    assert 'action="/admin/deflection/sprints"' in page and "No sprint recorded yet" in page
    bad = client.post("/admin/deflection/sprints", data={"name": "Sprint 9", "starts_on": "2026-03-02",
                                                          "ends_on": "2026-03-15", "planned_points": "x",
                                                          "completed_points": "3", "from": "2026-03-01",
                                                          "csrf_token": auth.csrf()})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "planned_points must be a whole number" in html
    assert 'value="Sprint 9"' in html
    good = client.post("/admin/deflection/sprints", data={k: str(v) for k, v in SPRINT.items()} | {
        "from": "2026-03-01", "to": "2026-04-30", "csrf_token": auth.csrf()})
    assert good.status_code == 302
    assert "section=team" in good.location and "from=2026-03-01" in good.location
    page = client.get(good.location).get_data(as_text=True)
    assert "Plan the next sprint with 24 points" in page


def test_an_agent_cannot_use_the_sprint_form(client, auth, login_as):
    login_as("agent")
    response = client.post("/admin/deflection/sprints", data={k: str(v) for k, v in SPRINT.items()}
                           | {"csrf_token": auth.csrf()})
    assert response.status_code == 403
    assert "Record a sprint" not in client.get("/admin/deflection/?section=team").get_data(as_text=True)
