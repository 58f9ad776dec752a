"""The deflection dashboard: panels with a chart, a table and a CSV; filters; the team view; home sections."""
import csv
import io
import re

import pytest

from console.deflection.dashboard import PANELS, SECTIONS
from tests.deflection.conftest import T0


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def some_tickets(event, make_user):
    make_user("agent", email="night@example.com", team="night-shift")
    event("D-1", "runbook_viewed", 0, runbook="refund-request")
    event("D-1", "escalated", 1, escalation_class="small_change", category="payments",
          missing_tool="=HYPERLINK(\"http://evil\")")
    event("D-1", "dev_time", 60, actor="dev@example.com", minutes=30)
    event("D-2", "task_run", 2, task="refund_order", run_status="succeeded", actor="night@example.com")
    event("D-2", "resolved", 3, category="payments", actor="night@example.com")


RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


def test_every_panel_has_a_chart_a_table_and_a_csv_link(client, login_as, some_tickets):
    login_as("product_owner")
    html = ""
    for section, _title, _panels in SECTIONS:
        response = client.get("/admin/deflection/", query_string=RANGE | {"section": section})
        assert response.status_code == 200
        html += page(response)
    for key in PANELS:
        assert f'id="panel-{key}"' in html and f"/admin/deflection/csv/{key}?" in html
    charts = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(charts) >= 5
    assert not any("<script" in chart or "href" in chart for chart in charts)  # drawn on the server, no assets
    assert all("nonce=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "Tool-opportunity ranking" in html and "Refund an order" in html


def test_the_page_is_tabs_whose_links_keep_the_range(client, login_as, some_tickets):
    login_as("product_owner")
    html = page(client.get("/admin/deflection/", query_string=RANGE | {"category": "payments"}))
    tabs = re.findall(r'<a class="nav-link[^"]*"[^>]*href="(/admin/deflection/\?section=[^"]+)"', html)
    assert len(tabs) == len(SECTIONS) >= 4
    assert all("from=2026-03-01" in tab and "to=2026-03-31" in tab and "category=payments" in tab for tab in tabs)
    assert re.findall(r'id="panel-(\w+)"', html) == ["deflection", "funnel"]  # the first tab only
    assert 'name="section" value="overview"' in html  # Apply stays on the tab
    tools = page(client.get("/admin/deflection/", query_string=RANGE | {"section": "tools"}))
    assert re.findall(r'id="panel-(\w+)"', tools) == ["health", "impact"]
    assert 'aria-current="page"' in tools.split("Tool health and impact")[0][-300:]


def test_the_csv_download_makes_formulas_inert(client, login_as, some_tickets):
    login_as("lead")
    response = client.get("/admin/deflection/csv/opportunities", query_string=RANGE | {"to": "2026-03-05"})
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(page(response))))
    assert rows[0][:3] == ["Category", "Missing tool (agents' answer)", "Escalations"]
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")" and rows[1][2] == "1"
    assert client.get("/admin/deflection/csv/nothing").status_code == 404


def test_each_csv_matches_its_table(client, login_as, some_tickets):
    login_as("developer")
    response = client.get("/admin/deflection/csv/deflection", query_string=RANGE)
    rows = list(csv.reader(io.StringIO(page(response))))
    assert rows[0] == ["Week of", "Tickets", "By a task", "By a runbook", "Resolved otherwise", "Escalated",
                       "Deflection rate"]
    assert ["2026-03-02", "2", "1", "0", "0", "1", "50%"] in rows


def test_filters_narrow_every_panel_and_bad_ones_are_named(client, login_as, some_tickets):
    login_as("product_owner")
    html = page(client.get("/admin/deflection/", query_string=RANGE | {"category": "orders"}))
    assert "refund_order" not in html.split('id="panel-deflection"')[1].split('id="panel-health"')[0]
    bad = client.get("/admin/deflection/", query_string={"from": "2026-04-01", "to": "2026-03-01"})
    assert bad.status_code == 400 and "From date (2026-04-01) is after To date (2026-03-01)." in page(bad)
    assert client.get("/admin/deflection/csv/tax", query_string={"to": "soon"}).status_code == 400


@pytest.mark.parametrize("query", [{"to": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "0001-01-01"},
                                   {"from": "9999-12-31", "to": "9999-12-31"}])
def test_dates_at_the_far_ends_of_the_calendar_are_a_400_naming_the_field(client, login_as, query):
    """They overflowed into a 500 when the range's first week or previous period was worked out."""
    login_as("product_owner")
    field = "From date" if "from" in query else "To date"
    response = client.get("/admin/deflection/", query_string=query)
    assert response.status_code == 400 and f"{field} must be a date from 2000-01-01" in page(response)
    for panel in ("deflection", "opportunities", "impact"):
        download = client.get(f"/admin/deflection/csv/{panel}", query_string=query)
        assert download.status_code == 400 and f"{field} must be a date" in page(download), panel


def test_an_agent_sees_their_own_team_only(client, login_as, some_tickets):
    login_as("agent", team="night-shift")
    response = client.get("/admin/deflection/csv/deflection", query_string=RANGE | {"team": "support"})
    rows = list(csv.reader(io.StringIO(page(response))))
    assert ["2026-03-02", "1", "1", "0", "0", "0", "100%"] in rows  # the night shift's one ticket, not D-1
    html = page(client.get("/admin/deflection/", query_string=RANGE))
    assert "your team&#39;s view" in html or "your team's view" in html


def test_the_product_owner_home_shows_the_summary_and_top_opportunities(client, login_as, event):
    from console.db import utcnow

    today_minutes = (utcnow() - T0).total_seconds() / 60
    event("PO-1", "escalated", today_minutes - 10, escalation_class="small_change", category="orders",
          missing_tool="a task to split an order")
    login_as("product_owner")
    html = page(client.get("/admin/"))
    assert "Deflection, last four weeks" in html and "a task to split an order" in html
    assert "Start a ticket" not in html


def test_the_developer_home_lists_the_newest_escalations_first_and_says_how_many(client, login_as, event):
    developer = login_as("developer")
    for number in range(23):
        event(f"NEW-{number:02d}", "escalated", number, escalation_class="small_change", assignee=developer.email)
    event("ELSEWHERE-1", "escalated", 30, escalation_class="knowledge", assignee="someone-else@example.com")
    html = page(client.get("/admin/"))
    section = html.split('id="home-duty"', 1)[1].split("</section>", 1)[0]
    shown = re.findall(r">(NEW-\d\d|ELSEWHERE-\d)</a>", section)
    assert shown == [f"NEW-{number:02d}" for number in range(22, 2, -1)]  # the newest 20, newest first
    assert "23 open, newest first" in section and "The newest 20 of 23." in section
