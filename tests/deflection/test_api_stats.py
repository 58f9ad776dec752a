"""GET /api/v1/stats/...: the contract's deflection stats, and the opportunity ranking and support tax."""
from datetime import date, datetime

import pytest
from sqlalchemy import text

DAY = 60 * 24


@pytest.fixture
def tickets(event, make_user):
    make_user("agent", email="night-agent@example.com", team="night-shift")
    event("S-1", "task_run", 0, task="unlock_account", run_status="succeeded")
    event("S-1", "resolved", 1, category="account")
    event("S-2", "runbook_viewed", 2, runbook="refund-request")
    event("S-2", "resolved", 3, category="payments")
    event("S-3", "escalated", 4, escalation_class="small_change", category="orders", missing_tool="a split task")
    event("S-3", "dev_time", 90, actor="dev@example.com", minutes=120)
    event("S-4", "resolved", 5, actor="night-agent@example.com")
    event("S-5", "escalated", 8 * DAY, escalation_class="knowledge", actor="night-agent@example.com")
    event("S-6", "runbook_viewed", 6)  # still open: no outcome


def get(client, headers, path, **query):
    return client.get(path, query_string=query, headers=headers)


def test_totals_agree_with_a_direct_sql_count(client, api_token, tickets, console_db):
    _user, headers = api_token("product_owner")
    answer = get(client, headers, "/api/v1/stats/deflection", **{"from": "2026-03-01", "to": "2026-03-31"}).get_json()
    rows = console_db.execute(text("SELECT outcome, count(*) FROM tickets WHERE outcome <> 'open' "
                                   "AND closed_at >= :start AND closed_at < :end GROUP BY outcome"),
                              {"start": datetime(2026, 3, 1), "end": datetime(2026, 4, 1)}).all()
    counts = dict(rows)
    deflected = counts.get("deflected_by_task", 0) + counts.get("deflected_by_runbook", 0)
    assert answer["totals"]["tickets"] == sum(counts.values()) == 5
    assert (answer["totals"]["deflected"], answer["totals"]["escalated"]) == (deflected, counts["escalated"]) == (2, 2)
    assert answer["totals"]["deflection_rate"] == 0.5
    assert [row["week"] for row in answer["rows"]] == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16",
                                                      "2026-03-23", "2026-03-30"]


def test_grouping_by_category_and_by_task(client, api_token, tickets):
    _user, headers = api_token("lead")
    by_category = get(client, headers, "/api/v1/stats/deflection", group_by="category",
                      **{"from": "2026-03-02", "to": "2026-03-02"}).get_json()
    assert {row["category"]: row["tickets"] for row in by_category["rows"]} == {"account": 1, "payments": 1,
                                                                                 "orders": 1, "": 1}
    by_task = get(client, headers, "/api/v1/stats/deflection", group_by="task",
                  **{"from": "2026-03-02", "to": "2026-03-02"}).get_json()
    assert {row["task"]: row["deflected"] for row in by_task["rows"]}["unlock_account"] == 1


def test_an_empty_range_gives_zeros(client, api_token, tickets):
    _user, headers = api_token("developer")
    answer = get(client, headers, "/api/v1/stats/deflection", **{"from": "2020-01-01", "to": "2020-01-01"}).get_json()
    assert answer["totals"] == {"tickets": 0, "deflected": 0, "escalated": 0, "deflection_rate": 0.0,
                                "deflected_by_task": 0, "deflected_by_runbook": 0, "resolved": 0}


@pytest.mark.parametrize("query, field", [({"from": "2026-03-05", "to": "2026-03-01"}, "from"),
                                          ({"from": "March"}, "from"), ({"to": "2026-02-30"}, "to"),
                                          ({"group_by": "month"}, "group_by")])
def test_bad_parameters_are_a_400_naming_the_field(client, api_token, query, field):
    _user, headers = api_token("product_owner")
    response = get(client, headers, "/api/v1/stats/deflection", **query)
    assert response.status_code == 400 and field in response.get_json()["error"]["fields"]


STATS_PATHS = ["/api/v1/stats/deflection", "/api/v1/stats/opportunities", "/api/v1/stats/support-tax",
               "/api/v1/stats/tool-health", "/api/v1/stats/impact"]
FAR_ENDS = [({"to": "0001-01-01"}, "to"), ({"to": "9999-12-31"}, "to"), ({"from": "0001-01-01"}, "from"),
            ({"from": "9999-12-31", "to": "9999-12-31"}, "from to"), ({"from": "1999-12-31", "to": "2000-01-07"}, "from"),
            ({"to": "2101-01-01"}, "to"), ({"from": "2026-03-05", "to": "20260301"}, "to")]


@pytest.mark.parametrize("path", STATS_PATHS)
@pytest.mark.parametrize("query, field", FAR_ENDS)
def test_dates_outside_the_supported_range_are_a_400_naming_the_field(client, api_token, path, query, field):
    """A day added to or taken from 9999-12-31 or 0001-01-01 overflowed into a 500."""
    _user, headers = api_token("product_owner")
    response = get(client, headers, path, **query)
    error = response.get_json()["error"]
    assert response.status_code == 400 and list(error["fields"]) == field.split(), error  # each bad one
    assert error["code"] == "invalid" and all(name in error["message"] for name in field.split())


def test_the_edges_of_the_supported_range_are_answered(client, api_token):
    _user, headers = api_token("product_owner")
    for path in STATS_PATHS:
        for query in ({"from": "2000-01-01", "to": "2000-01-01"}, {"to": "2000-01-01"},
                      {"from": "2100-12-31", "to": "2100-12-31"}, {"from": "2091-01-01", "to": "2100-12-31"}):
            assert get(client, headers, path, **query).status_code == 200, (path, query)


def test_an_agent_gets_their_own_teams_numbers(client, api_token, tickets):
    _user, headers = api_token("agent", team="night-shift")
    answer = get(client, headers, "/api/v1/stats/deflection", team="support",
                 **{"from": "2026-03-01", "to": "2026-03-31"}).get_json()
    assert answer["team"] == "night-shift"
    assert (answer["totals"]["tickets"], answer["totals"]["escalated"]) == (2, 1)


def test_the_opportunity_ranking_and_the_support_tax(client, api_token, tickets):
    _user, headers = api_token("product_owner")
    ranking = get(client, headers, "/api/v1/stats/opportunities", to="2026-03-31", limit="5").get_json()
    assert ranking["rows"][0]["missing_tool"] == "a split task"
    assert ranking["rows"][0]["score"] == 120.0
    assert get(client, headers, "/api/v1/stats/opportunities", limit="0").status_code == 400
    tax = get(client, headers, "/api/v1/stats/support-tax", **{"from": "2026-03-02", "to": "2026-03-08"}).get_json()
    assert tax["totals"]["dev_hours"] == 2.0
    assert tax["rows"] == [{"week": "2026-03-02", "days": 7, "dev_hours": 2.0, "capacity_hours": tax["rows"][0][
        "capacity_hours"], "share": tax["rows"][0]["share"], "escalations": 1}]
    assert tax["capacity_hours_per_week"] > 0


def test_tool_health_and_impact_endpoints(client, api_token, tickets):
    _user, headers = api_token("product_owner")
    health = get(client, headers, "/api/v1/stats/tool-health", **{"from": "2026-03-01", "to": "2026-03-31"}).get_json()
    unlock = next(row for row in health["rows"] if row["task"] == "unlock_account")
    assert (unlock["uses"], unlock["succeeded"], unlock["deflections"]) == (1, 1, 1)
    impact = get(client, headers, "/api/v1/stats/impact").get_json()
    assert [row["task"] for row in impact["rows"]] == ["unlock_account"]


def test_the_stats_need_a_token_or_a_session(client):
    assert client.get("/api/v1/stats/deflection").status_code == 401


def test_without_dates_the_range_is_the_last_26_weeks(client, api_token):
    from console.db import utcnow

    _user, headers = api_token("product_owner")
    answer = get(client, headers, "/api/v1/stats/deflection").get_json()
    start, end = date.fromisoformat(answer["from"]), date.fromisoformat(answer["to"])
    assert end == utcnow().date() and start.weekday() == 0 and len(answer["rows"]) == 26
