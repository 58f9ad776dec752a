"""Root cause, structured: a developer closing an escalation writes five whys and an action; the dashboard groups them."""
import re
from datetime import timedelta

from sqlalchemy import select

from console.audit.models import AuditEntry
from console.db import utcnow
from console.deflection.models import RootCause

WHYS = {"why_1": "The customer could not log in", "why_2": "The account was locked",
        "why_3": "Five wrong passwords lock it", "why_4": "Support cannot unlock it",
        "root_cause": "No unlock tool for support", "action_kind": "task", "action": "Build unlock_account"}


def escalated(event, ref):
    event(ref, "escalated", 0, escalation_class="small_change", category="account", missing_tool="an unlock task")


def dev_time(client, headers, ref, **body):
    return client.post(f"/api/v1/tickets/{ref}/dev-time", json={"minutes": 20} | body, headers=headers)


def test_closing_an_escalation_needs_the_five_whys(client, api_token, event):
    escalated(event, "RC-1")
    _dev, headers = api_token("developer")
    refused = dev_time(client, headers, "RC-1", close=True)
    assert refused.status_code == 409 and list(refused.get_json()["error"]["fields"]) == ["five_whys"]
    partial = dev_time(client, headers, "RC-1", close=True, five_whys=WHYS | {"why_3": " "})
    assert partial.status_code == 400 and list(partial.get_json()["error"]["fields"]) == ["why_3"]
    fix = dev_time(client, headers, "RC-1", close=True, five_whys=WHYS | {"action_kind": "product_fix"})
    assert fix.status_code == 400 and list(fix.get_json()["error"]["fields"]) == ["action_link"]
    bad_link = dev_time(client, headers, "RC-1", close=True, five_whys=WHYS | {"action_link": "javascript:alert(1)"})
    assert bad_link.status_code == 400 and list(bad_link.get_json()["error"]["fields"]) == ["action_link"]
    unparsable = dev_time(client, headers, "RC-1", close=True, five_whys=WHYS | {"action_link": "http://x]7/fix"})
    assert unparsable.status_code == 400 and list(unparsable.get_json()["error"]["fields"]) == ["action_link"]
    assert dev_time(client, headers, "RC-1", five_whys={}).status_code == 400
    closed = dev_time(client, headers, "RC-1", close=True, five_whys=WHYS | {
        "action_kind": "product_fix", "action_link": "https://git.example.com/shop/issues/42"})
    assert closed.status_code == 200 and closed.get_json()["ticket"]["escalation_closed_at"]
    kinds = [e["kind"] for e in closed.get_json()["ticket"]["events"]]
    assert kinds == ["escalated", "dev_time", "root_cause", "resolved"]


def test_time_alone_needs_no_record_and_a_record_given_earlier_lets_the_close_through(client, api_token, event):
    escalated(event, "RC-2")
    _dev, headers = api_token("developer")
    assert dev_time(client, headers, "RC-2").status_code == 200
    assert dev_time(client, headers, "RC-2", five_whys=WHYS).status_code == 200
    assert dev_time(client, headers, "RC-2", close=True).status_code == 200


def test_the_dashboard_groups_escalations_by_root_cause_and_shows_the_actions_done(client, auth, login_as, event,
                                                                                 console_db):
    for ref in ("RC-3", "RC-4"):
        escalated(event, ref)
    developer = login_as("developer")
    for ref, cause in (("RC-3", "No unlock tool for support"), ("RC-4", "no unlock tool  for support")):
        response = client.post("/admin/tickets/time", data={"ref": ref, "minutes": "15", "close": "1",
                                                            "csrf_token": auth.csrf()} | WHYS | {"root_cause": cause})
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    first = console_db.scalars(select(RootCause).order_by(RootCause.id)).first()
    ticket_page = client.get("/admin/tickets/view", query_string={"ref": "RC-3"}).get_data(as_text=True)
    assert "Root cause: No unlock tool for support" in ticket_page and "Mark the action done" in ticket_page
    token = auth.csrf()
    done = client.post("/admin/tickets/action-done", data={"ref": "RC-3", "root_cause_id": str(first.id),
                                                           "csrf_token": token})
    assert done.status_code == 302
    wrong = client.post("/admin/tickets/action-done", data={"ref": "RC-4", "root_cause_id": str(first.id),
                                                            "csrf_token": token})
    assert wrong.status_code == 400
    entry = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.root_cause_action_done")).one()
    assert entry.actor == developer.email
    today = utcnow().date()  # the records are dated when written
    html = client.get("/admin/deflection/", query_string={"panel": "rootcauses", "to": today.isoformat(),
                                                           "from": (today - timedelta(days=7)).isoformat()}
                      ).get_data(as_text=True)
    table = html[html.index("<tbody>"):html.index("</tbody>")]
    assert table.count("<tr>") == 1 and "<td>1 of 2</td>" in re.sub(r"\s+", " ", table).replace("> ", ">").replace(" <", "<")
    assert "a task to build: Build unlock_account (done on 1 of 2)" in table


def test_an_agent_cannot_mark_an_action_done(client, auth, login_as):
    login_as("agent")
    assert client.post("/admin/tickets/action-done", data={"ref": "RC-9", "root_cause_id": "1",
                                                           "csrf_token": auth.csrf()}).status_code == 403
