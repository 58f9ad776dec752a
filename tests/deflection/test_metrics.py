"""Deflection metrics from the rollups: they agree with a count made directly in SQL."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from console.deflection import metrics
from console.deflection.metrics import FilterError, StatsFilter, parse_filter
from console.deflection.rebuild import rebuild
from tests.deflection.conftest import rollup_by_outcome


@pytest.fixture
def history(app, dbs):
    """Six weeks of demo history, in this test's rolled-back transaction."""
    from console.db import console_session, utcnow
    from console.demo.history import load_history

    with app.app_context():
        load_history(app, seed=7, history_days=42)
        console_session().close()
    return utcnow().date()


def sql_counts(session, start: date, end: date, team: str = "") -> dict[str, int]:
    rows = session.execute(text(
        "SELECT outcome, count(*) FROM tickets WHERE outcome <> 'open' AND closed_at >= :start AND closed_at < :end"
        + (" AND team = :team" if team else "") + " GROUP BY outcome"),
        {"start": datetime.combine(start, datetime.min.time()),
         "end": datetime.combine(end + timedelta(days=1), datetime.min.time()), "team": team})
    return dict(rows.all())


def expected_totals(counts: dict[str, int]) -> dict:
    deflected = counts.get("deflected_by_task", 0) + counts.get("deflected_by_runbook", 0)
    escalated = counts.get("escalated", 0)
    return {"tickets": sum(counts.values()), "deflected": deflected, "escalated": escalated,
            "deflection_rate": round(deflected / (deflected + escalated), 4)}


@pytest.mark.parametrize("days_back, length, team", [(42, 43, ""), (30, 14, ""), (40, 30, "night-shift"), (3, 1, "")])
def test_totals_agree_with_a_direct_sql_count(history, console_db, days_back, length, team):
    start = history - timedelta(days=days_back)
    end = start + timedelta(days=length - 1)
    answer = metrics.deflection(console_db, StatsFilter(start, end, "", team), "week")
    counts = sql_counts(console_db, start, end, team)
    assert counts, "the demo history should have decided tickets in this range"
    totals = answer["totals"]
    assert {key: totals[key] for key in ("tickets", "deflected", "escalated", "deflection_rate")} \
        == expected_totals(counts)
    assert sum(row["tickets"] for row in answer["rows"]) == totals["tickets"]


def test_any_range_reads_each_ticket_once_from_the_daily_and_weekly_rows(history, console_db):
    first = history - timedelta(days=41)
    for offset, length in [(0, 1), (0, 7), (1, 6), (2, 20), (5, 9), (6, 8), (7, 14), (3, 35), (0, 42), (13, 2)]:
        start = first + timedelta(days=offset)
        end = start + timedelta(days=length - 1)
        answer = metrics.deflection(console_db, StatsFilter(start, end), "week")["totals"]
        counts = sql_counts(console_db, start, end)
        assert (answer["tickets"], answer["escalated"]) == (sum(counts.values()), counts.get("escalated", 0)), \
            (start, end)


@pytest.mark.parametrize("group_by", ["category", "task"])
def test_every_grouping_adds_up_to_the_totals(history, console_db, group_by):
    stats_filter = StatsFilter(history - timedelta(days=42), history)
    answer = metrics.deflection(console_db, stats_filter, group_by)
    for key in ("tickets", "deflected", "escalated"):
        assert sum(row[key] for row in answer["rows"]) == answer["totals"][key]
    assert len({row[group_by] for row in answer["rows"]}) == len(answer["rows"]) > 3


def test_weekly_rows_cover_every_week_of_the_range(console_db):
    answer = metrics.deflection(console_db, StatsFilter(date(2020, 1, 1), date(2020, 1, 31)), "week")
    assert [row["week"] for row in answer["rows"]] == ["2019-12-30", "2020-01-06", "2020-01-13", "2020-01-20",
                                                      "2020-01-27"]


def test_an_empty_range_gives_zeros(console_db):
    answer = metrics.deflection(console_db, StatsFilter(date(2001, 1, 1), date(2001, 1, 1)), "category")
    assert answer["totals"] == {"tickets": 0, "deflected": 0, "escalated": 0, "deflection_rate": 0.0,
                                "deflected_by_task": 0, "deflected_by_runbook": 0, "resolved": 0}
    assert answer["rows"] == []


@pytest.mark.parametrize("args, field", [({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
                                         ({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"),
                                         ({"from": "1990-01-01", "to": "2026-01-01"}, "from")])
def test_bad_ranges_name_the_field(args, field):
    with pytest.raises(FilterError) as caught:
        parse_filter(args, today=date(2026, 3, 4))
    assert caught.value.field == field


def test_the_default_range_is_whole_weeks_up_to_today_and_a_team_can_be_forced():
    stats_filter = parse_filter({"team": "other", "category": " Orders"}, today=date(2026, 3, 4), forced_team="support")
    assert (stats_filter.start, stats_filter.end) == (date(2025, 9, 8), date(2026, 3, 4))
    assert stats_filter.start.weekday() == 0 and stats_filter.days <= metrics.DEFAULT_DAYS
    assert (stats_filter.team, stats_filter.category) == ("support", "orders")
    with pytest.raises(FilterError) as caught:
        metrics.deflection(None, stats_filter, "month")
    assert caught.value.field == "group_by"


def test_support_tax_counts_hours_in_the_week_they_were_logged(event, console_db):
    event("T-20", "escalated", 0, escalation_class="small_change")  # Monday 2026-03-02
    event("T-20", "dev_time", 60 * 24 * 8, actor="dev@example.com", minutes=90)  # Tuesday of the next week
    answer = metrics.support_tax(console_db, StatsFilter(date(2026, 3, 2), date(2026, 3, 11)), 70)
    assert [(row["week"], row["dev_hours"], row["capacity_hours"], row["escalations"]) for row in answer["rows"]] \
        == [("2026-03-02", 0.0, 70.0, 1), ("2026-03-09", 1.5, 30.0, 0)]
    assert answer["rows"][1]["share"] == 0.05
    assert answer["totals"]["dev_hours"] == 1.5


def test_the_funnel_splits_escalations_by_class(event, console_db):
    event("F-1", "task_run", 0, task="cancel_order", run_status="succeeded")
    event("F-1", "resolved", 1, category="orders")
    event("F-2", "escalated", 2, escalation_class="specialist", category="orders")
    event("F-3", "runbook_viewed", 3, runbook="refund-request")
    event("F-3", "resolved", 4, category="payments")
    rows = {row["category"]: row for row in metrics.funnel(console_db, StatsFilter(date(2026, 3, 2), date(2026, 3, 2)))}
    assert (rows["orders"]["tickets"], rows["orders"]["deflected_by_task"], rows["orders"]["specialist"]) == (2, 1, 1)
    assert rows["payments"]["deflected_by_runbook"] == 1


def test_rebuilding_the_rollups_gives_what_the_events_built(history, console_db):
    before = rollup_by_outcome(console_db)
    tax = metrics.support_tax(console_db, StatsFilter(history - timedelta(days=42), history), 100)["totals"]
    assert rebuild(console_db) > 0
    assert rollup_by_outcome(console_db) == before
    assert metrics.support_tax(console_db, StatsFilter(history - timedelta(days=42), history), 100)["totals"] == tax
