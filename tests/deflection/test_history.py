"""The demo history: deterministic, loaded once, and telling a story on the dashboard."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from console.deflection import insights, metrics, rootcause, sprints
from console.deflection.metrics import StatsFilter
from console.deflection.models import Ticket
from admin_tasks.shop import DEMO_TICKETS
from console.demo.history import HistoryWriter, load_history

NOW = datetime(2026, 6, 30, 12, 0)
ROTA = ["dev@example.com", "dev2@example.com"]
CONFIG = {"SPRINT_DAYS": 14, "SPRINT_START": datetime(2024, 1, 1).date()}


def generated(seed: int, days: int = 60):
    tickets = HistoryWriter(DEMO_TICKETS, seed, days, NOW, ROTA, CONFIG).generate()
    return [(t["ref"], t["team"], t["created_at"], [(e.kind, e.created_at, e.task, e.run_status, e.assignee)
                                                    for e in t["events"]]) for t in tickets]


def test_the_same_seed_and_day_give_the_same_history_and_another_seed_another():
    assert generated(3) == generated(3)
    assert generated(3) != generated(4)


def test_nothing_happens_after_now_and_escalations_follow_the_rotation():
    tickets = HistoryWriter(DEMO_TICKETS, 1, 60, NOW, ROTA, CONFIG).generate()
    events = [event for ticket in tickets for event in ticket["events"]]
    assert max(event.created_at for event in events) <= NOW
    assignees = {event.assignee for event in events if event.kind == "escalated"}
    assert assignees == set(ROTA)


@pytest.fixture
def loaded(app, dbs):
    from console.db import console_session

    with app.app_context():
        first = load_history(app, seed=0, history_days=180)
        second = load_history(app, seed=0, history_days=180)
        console_session().close()
    return first, second


def test_a_second_run_adds_nothing(loaded, console_db):
    first, second = loaded
    count = console_db.scalar(select(func.count(Ticket.id)).where(Ticket.ref.like("DEMO-%")))
    assert first[0].startswith(f"Ticket history: {count} tickets") and count > 3000
    assert re.fullmatch(r"Sprints and root causes: 1[23] sprints, [1-9]\d* root-cause records", first[1])
    assert second == [f"Ticket history: already loaded ({count} demo tickets)"]


def test_the_dashboard_tells_a_story(loaded, console_db):
    from console.db import utcnow

    today = utcnow().date()
    half_year = StatsFilter(today - timedelta(days=180), today)
    weeks = [row for row in metrics.deflection(console_db, half_year, "week")["rows"] if row["tickets"] > 20]
    assert weeks[-1]["deflection_rate"] - weeks[1]["deflection_rate"] > 0.2  # the tools pay off
    assert len(insights.opportunities(console_db, half_year)) >= 5
    shipped = [row for row in insights.impact(console_db, half_year, today=today) if row["change"] is not None]
    fewer = [row for row in shipped if row["escalations_after"] < row["escalations_before"]]
    assert len(shipped) >= 5 and len(fewer) >= len(shipped) - 1 and min(row["change"] for row in fewer) < -0.3
    health = {row["task"]: row for row in insights.tool_health(console_db, half_year)}
    assert sum(row["false_deflections"] for row in health.values()) > 0
    reopened = console_db.scalar(select(func.count(Ticket.id)).where(Ticket.outcome == "resolved"))
    assert reopened > 0
    open_escalations = console_db.scalar(select(func.count(Ticket.id)).where(
        Ticket.outcome == "escalated", Ticket.escalation_closed_at.is_(None)))
    assert open_escalations > 0  # the developer on duty has work on their page
    velocity = sprints.velocity(console_db, 200.0)
    assert velocity["plan"]["low"] <= velocity["plan"]["points"] <= velocity["plan"]["high"]
    assert all(row["support_hours"] > 0 for row in velocity["rows"])
    causes = rootcause.by_root_cause(console_db, half_year)
    assert len(causes) == 3 and all(0 < group["done"] < group["escalations"] for group in causes)


def test_agents_name_a_tool_by_the_title_they_see_never_by_its_task_name(app):
    with app.app_context():
        names = {spec.name for spec in app.extensions["task_registry"]}
        titles = {spec.title for spec in app.extensions["task_registry"]}
        tickets = HistoryWriter(DEMO_TICKETS, 2, 365, NOW, ROTA, CONFIG).generate()
    named = {event.missing_tool for ticket in tickets for event in ticket["events"] if event.kind == "escalated"}
    assert named & titles and not named & names


def test_every_demo_escalation_names_the_tool_that_would_have_helped(app):
    with app.app_context():
        tickets = HistoryWriter(DEMO_TICKETS, 2, 365, NOW, ROTA, CONFIG).generate()
    answers = [event.missing_tool for ticket in tickets for event in ticket["events"] if event.kind == "escalated"]
    assert len(answers) > 1000 and all(answer.strip() for answer in answers)  # required since the workflow asks it


def test_the_demo_ranking_lists_only_tools_that_are_missing(loaded, console_db, app):
    from console.db import utcnow
    from console.deflection.ranking import NO_ANSWER

    today = utcnow().date()
    with app.app_context():  # the tools that exist come from the app's catalogue
        rows = insights.opportunities(console_db, StatsFilter(today - timedelta(days=90), today))
    answers = [row["missing_tool"] for row in rows]
    assert len(answers) >= 5 and NO_ANSWER not in answers
    # Escalations from before a task shipped name it by its title: they are asked-for tools that exist now.
    shipped = ("refund", "anonymize", "unlock", "cancel")
    assert not [answer for answer in answers if any(word in answer.lower() for word in shipped)], answers


def test_a_product_without_a_ticket_story_gets_no_history(app, monkeypatch):
    # The story is the product's: the console makes up no tickets about a shop for another product.
    monkeypatch.setattr(type(app.extensions["product"]), "ticket_story", property(lambda _self: None))
    with app.app_context():
        assert load_history(app, seed=0, history_days=30) == [
            "Ticket history: none (the product package tells no demo story: DEMO_TICKETS)"]
