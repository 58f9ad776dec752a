"""The tool-opportunity ranking you can act on: the answer is required, suggested, and never names a tool we have."""
import re
from datetime import date

from console.deflection import ranking
from console.deflection.metrics import StatsFilter

MARCH = StatsFilter(date(2026, 3, 1), date(2026, 3, 31))


def escalate(event, ref, tool, at=0, minutes=0):
    event(ref, "escalated", at, escalation_class="small_change", category="orders", missing_tool=tool)
    if minutes:
        event(ref, "dev_time", at + 1, actor="dev@example.com", minutes=minutes)


def test_tools_that_exist_are_never_ranked_as_missing(app, event, console_db):
    escalate(event, "R-1", "Refund an order", minutes=20)  # the title of refund_order
    escalate(event, "R-2", "cancel_order.", minutes=10)  # its name, with a stray dot
    escalate(event, "R-3", "a task to merge two accounts", minutes=30)
    for number in range(4):  # cancel_order is refused half the time
        event(f"R-run-{number}", "task_run", 5, task="cancel_order",
              run_status="refused" if number % 2 else "succeeded")
    with app.app_context():
        answer = ranking.ranking(console_db, MARCH)
    assert [row["missing_tool"] for row in answer["rows"]] == ["a task to merge two accounts"]
    verdicts = {row["tool"]["name"]: row["tool"]["verdict"] for row in answer["existing"]}
    assert verdicts == {"refund_order": "used too rarely", "cancel_order": "refused too often"}
    assert answer["score_unit"] == "developer minutes" and "escalations ×" in answer["score_explanation"]
    assert answer["rows"][0]["score"] == 30.0


def test_the_api_answers_the_existing_tools_apart(client, api_token, event):
    escalate(event, "R-4", "Refund an order", minutes=20)
    _user, headers = api_token("product_owner")
    answer = client.get("/api/v1/stats/opportunities", query_string={"to": "2026-03-31"}, headers=headers).get_json()
    assert answer["rows"] == [] and answer["existing"][0]["tool"]["title"] == "Refund an order"


def test_the_dashboard_explains_the_score_and_lists_existing_tools_apart(client, login_as, event):
    escalate(event, "R-5", "Refund an order", minutes=20)
    escalate(event, "R-6", "a task to merge two accounts", minutes=30)
    login_as("product_owner")
    html = client.get("/admin/deflection/", query_string={"section": "build", "from": "2026-03-01",
                                                           "to": "2026-03-31"}).get_data(as_text=True)
    assert "Score (developer minutes)" in html and "Score = escalations × mean developer minutes" in html
    ranking_table = html[html.index('id="panel-opportunities"'):html.index('id="panel-existing"')]
    assert "merge two accounts" in ranking_table and "Refund an order" not in ranking_table
    existing = html[html.index('id="panel-existing"'):html.index('id="panel-rootcauses"')]
    assert "Refund an order" in existing and "used too rarely" in existing


def test_an_escalation_needs_the_missing_tool_over_the_api(client, api_token):
    _user, headers = api_token("agent")
    response = client.post("/api/v1/tickets/R-7/outcome", headers=headers,
                           json={"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": "  "})
    assert response.status_code == 400 and list(response.get_json()["error"]["fields"]) == ["missing_tool"]


def test_the_escalation_form_requires_the_tool_and_suggests_the_catalogue_and_earlier_answers(client, auth, login_as,
                                                                                               event):
    escalate(event, "R-8", "a bulk address fix")
    login_as("agent")
    page = client.get("/admin/tickets/view", query_string={"ref": "R-9"}).get_data(as_text=True)
    field = re.search(r'<input id="escalate-missing"[^>]*>', page).group(0)
    assert "required" in field and 'list="missing-tool-suggestions"' in field
    datalist = re.search(r'<datalist id="missing-tool-suggestions">(.*?)</datalist>', page, re.S).group(1)
    assert '<option value="Refund an order">' in datalist and '<option value="a bulk address fix">' in datalist
    response = client.post("/admin/tickets/escalate", data={"ref": "R-9", "escalation_class": "knowledge",
                                                             "missing_tool": "", "csrf_token": auth.csrf()})
    assert response.status_code == 400 and "missing_tool is required" in response.get_data(as_text=True)
