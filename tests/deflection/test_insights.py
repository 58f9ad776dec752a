"""What to build next and how the built tools do: opportunities, tool health, impact, runbook gaps."""
from datetime import date, timedelta

from flask import Flask

from console.deflection import insights
from console.deflection.metrics import StatsFilter
from console.runbooks.gaps import record_search_miss

DAY = 60 * 24
MARCH = StatsFilter(date(2026, 3, 1), date(2026, 3, 31))


def escalate(event, ref, at, *, category="orders", missing="a task to split an order", minutes=0, klass="small_change"):
    event(ref, "escalated", at, escalation_class=klass, category=category, missing_tool=missing)
    if minutes:
        event(ref, "dev_time", at + 60, actor="dev@example.com", minutes=minutes)


def test_opportunities_rank_by_escalations_times_mean_developer_minutes(event, console_db):
    for n in range(3):
        escalate(event, f"S-{n}", n, missing="A task to split an order.", minutes=60)
    escalate(event, "S-3", 4, missing="a task to split an order")  # no time logged yet: not in the mean
    for n in range(2):
        escalate(event, f"P-{n}", 5 + n, category="payments", missing="a task to change the payment method",
                 minutes=200, klass="knowledge")
    escalate(event, "OLD-1", -100 * DAY, missing="a task to split an order")  # the 90 days before
    rows = insights.opportunities(console_db, StatsFilter(date(2026, 3, 1), date(2026, 3, 2)))
    assert [(r["category"], r["missing_tool"], r["escalations"], r["mean_dev_minutes"], r["score"]) for r in rows] == [
        ("payments", "a task to change the payment method", 2, 200.0, 400.0),
        ("orders", "A task to split an order", 4, 60.0, 240.0),  # the most common wording, tidied
    ]
    split = rows[1]
    assert split["previous_escalations"] == 1 and split["trend"] == {"direction": "up", "change": 3.0}
    assert split["classes"] == {"knowledge": 0, "small_change": 4, "specialist": 0}
    assert rows[0]["trend"]["direction"] == "new"


def test_opportunities_follow_the_category_and_team_filters(event, console_db, make_user):
    escalate(event, "C-1", 0, category="orders", minutes=10)
    escalate(event, "C-2", 0, category="account", missing="a merge task", minutes=10)
    only_account = insights.opportunities(console_db, StatsFilter(date(2026, 3, 1), date(2026, 3, 2), "account"))
    assert [row["missing_tool"] for row in only_account] == ["a merge task"]
    assert insights.opportunities(console_db, StatsFilter(date(2026, 3, 1), date(2026, 3, 2), "", "nobody")) == []


def test_tool_health_counts_uses_results_undos_and_false_deflections(event, console_db):
    event("H-1", "task_run", 0, task="fix_stuck_order", run_id=None, run_status="succeeded")
    event("H-1", "resolved", 1, category="orders")
    event("H-2", "task_run", 2, task="fix_stuck_order", run_status="refused")
    event("H-3", "task_run", 3, task="fix_stuck_order", run_status="succeeded")
    event("H-3", "escalated", 4, escalation_class="small_change", category="orders")  # a false deflection
    event("H-4", "task_run", 5, task="fix_stuck_order", run_status="failed")
    event("H-4", "task_run", 6, task="fix_stuck_order", run_status="succeeded", undo_of=999)
    rows = {row["task"]: row for row in insights.tool_health(console_db, MARCH)}
    health = rows["fix_stuck_order"]
    assert {key: health[key] for key in ("uses", "succeeded", "refused", "failed", "undos", "deflections",
                                         "false_deflections")} \
        == {"uses": 4, "succeeded": 2, "refused": 1, "failed": 1, "undos": 1, "deflections": 1, "false_deflections": 1}
    assert health["success_rate"] == 0.5


def test_impact_compares_equal_windows_before_and_after_the_first_run(event, console_db):
    for n in range(6):  # before: six escalations in orders, over the 20 days before the task ships
        escalate(event, f"B-{n}", -20 * DAY + n * 3 * DAY)
    event("A-0", "task_run", 0, task="fix_stuck_order", run_status="succeeded")  # ships on 2026-03-02
    event("A-0", "resolved", 1, category="orders")
    escalate(event, "A-1", 5 * DAY)
    escalate(event, "LATE", 40 * DAY)  # outside the equal window
    rows = insights.impact(console_db, MARCH, today=date(2026, 3, 22))
    row = next(r for r in rows if r["task"] == "fix_stuck_order")
    assert (row["category"], row["first_run"], row["window_days"]) == ("orders", "2026-03-02", 20)
    assert (row["escalations_before"], row["escalations_after"], row["tickets_after"]) == (6, 1, 2)
    assert row["change"] == round((1 - 6) / 6, 4)


def test_impact_says_when_there_is_nothing_to_compare(event, console_db):
    event("N-1", "task_run", 0, task="cancel_order", run_status="succeeded")
    event("N-1", "resolved", 1, category="orders")
    row = insights.impact(console_db, MARCH, today=date(2026, 3, 3))[0]
    assert row["escalations_before"] is None and row["note"]


def test_runbooks_read_before_an_escalation_are_runbook_gaps(event, console_db):
    event("G-1", "runbook_viewed", 0, runbook="refund-request")
    event("G-1", "escalated", 1, escalation_class="knowledge", category="payments")
    event("G-2", "runbook_viewed", 2, runbook="refund-request")
    event("G-2", "resolved", 3)
    event("G-3", "escalated", 4, escalation_class="knowledge")
    event("G-3", "runbook_viewed", 5, runbook="cancel-order")  # read after escalating: not a gap
    rows = insights.runbook_gaps(console_db, MARCH)["escalated_after_reading"]
    assert rows == [{"runbook": "refund-request", "escalated_after": 1, "views": 2, "share": 0.5}]


def test_searches_that_found_nothing_come_from_the_runbooks_domain(app, console_db):
    record_search_miss(console_db, "gift card balance", actor="agent@example.com")
    today = date.today()
    with app.app_context():
        rows = insights.unanswered_searches(console_db, StatsFilter(today - timedelta(days=1),
                                                                    today + timedelta(days=1)))
        assert insights.unanswered_searches(console_db, MARCH) == []
    assert [(row["example"], row["searches"]) for row in rows] == [("gift card balance", 1)]


def test_without_a_registered_source_the_searches_panel_is_empty(console_db):
    record_search_miss(console_db, "gift card balance", actor="agent@example.com")
    bare = Flask(__name__)
    today = date.today()
    with bare.app_context():
        assert insights.unanswered_searches(console_db, StatsFilter(today - timedelta(days=1),
                                                                    today + timedelta(days=1))) == []
