"""What to build next and how the built tools do: opportunities, tool health, impact, runbook gaps.

- Tool opportunity: see console.deflection.ranking.
- Tool health: per task, runs with a final status, success rate, refusals, failures,
  rejections, undos, tickets it deflected and false deflections (an escalation after it
  succeeded on the ticket); bulk items counted apart from single runs.
- Impact of a shipped tool: the task "shipped" on the day of its first run; its category is
  the one its deflected tickets are filed under. Escalations (and tickets) in that category
  over equal windows before and after: up to 90 days, as long as the data on both sides allows.
- Runbook gaps: runbooks viewed on tickets that were escalated anyway (counted at the
  escalation), and searches that found nothing (recorded by the runbooks domain; not by team).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Callable

from flask import current_app, has_app_context
from sqlalchemy import and_, case, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session

from console.deflection import ranking
from console.deflection.metrics import StatsFilter, in_range, matching
from console.deflection.models import EventRollup, OutcomeRollup, TicketRollup

IMPACT_DAYS = 90
MIN_IMPACT_DAYS = 7
RUN_KINDS = ("task_run", "bulk_item")  # a tool ships with its first run, single or in a bulk
# The ranking lives in its own module; these names stay here, where the dashboard and the API read them.
opportunities = ranking.opportunities


def known_tasks() -> list[str]:
    """The names of the enabled tasks of this app, when the task registry is there."""
    registry = current_app.extensions.get("task_registry") if has_app_context() else None
    return sorted(spec.name for spec in registry) if registry is not None else []


STATUSES = ("succeeded", "refused", "rejected", "failed")


def task_titles() -> dict[str, str]:
    """Each enabled task's title by its name: pages show titles, never the names."""
    registry = current_app.extensions.get("task_registry") if has_app_context() else None
    return {spec.name: spec.title for spec in registry} if registry is not None else {}


def tool_health(session: Session, stats_filter: StatsFilter) -> list[dict]:
    """Per task: uses, success rate, refusals, failures, rejections, undos, deflections, false deflections.

    Single runs and bulk items count apart (`bulk_*`): one bulk of 2,000 items would otherwise drown
    every single run's success rate.
    """
    runs = (select(EventRollup.kind, EventRollup.subject, EventRollup.status, func.sum(EventRollup.events))
            .where(EventRollup.kind.in_(("task_run", "undo", "bulk_item")), *matching(EventRollup, stats_filter))
            .group_by(EventRollup.kind, EventRollup.subject, EventRollup.status))
    rows: dict[str, dict] = {}

    def row(task: str) -> dict:
        return rows.setdefault(task, {"task": task, "uses": 0, "succeeded": 0, "success_rate": 0.0, "refused": 0,
                                      "failed": 0, "rejected": 0, "undos": 0, "deflections": 0,
                                      "false_deflections": 0, "bulk_items": 0}
                               | {f"bulk_{status}": 0 for status in STATUSES})

    for name in known_tasks():
        row(name)
    for kind, task, status, events in session.execute(runs):
        events = int(events or 0)
        entry = row(task)
        if kind == "undo":
            entry["undos"] += events if status == "succeeded" else 0
            continue
        prefix = "bulk_" if kind == "bulk_item" else ""
        entry["bulk_items" if prefix else "uses"] += events
        if status in STATUSES:
            entry[prefix + status] += events
    credited = (select(TicketRollup.task, TicketRollup.outcome, TicketRollup.false_deflection,
                       func.sum(TicketRollup.tickets))
                .where(TicketRollup.task != "", *matching(TicketRollup, stats_filter))
                .where((TicketRollup.outcome == "deflected_by_task") | TicketRollup.false_deflection.is_(True))
                .group_by(TicketRollup.task, TicketRollup.outcome, TicketRollup.false_deflection))
    for task, outcome, false_deflection, tickets in session.execute(credited):
        entry = row(task)
        if false_deflection:
            entry["false_deflections"] += int(tickets or 0)
        elif outcome == "deflected_by_task":
            entry["deflections"] += int(tickets or 0)
    for entry in rows.values():
        entry["success_rate"] = round(entry["succeeded"] / entry["uses"], 4) if entry["uses"] else 0.0
    return sorted(rows.values(), key=lambda entry: (-entry["uses"] - entry["bulk_items"], entry["task"]))


def _first_runs(session: Session) -> dict[str, date]:
    """The day each task first ran: its first week from the weekly rows, then the day within that week."""
    weeks = [(task, week) for task, week in session.execute(
        select(EventRollup.subject, func.min(EventRollup.day))
        .where(EventRollup.grain == "w", EventRollup.kind.in_(RUN_KINDS)).group_by(EventRollup.subject)) if task]
    if not weeks:
        return {}
    days = (select(EventRollup.subject, func.min(EventRollup.day))
            .where(EventRollup.grain == "d", EventRollup.kind.in_(RUN_KINDS),
                   or_(*(and_(EventRollup.subject == task, EventRollup.day.between(week, week + timedelta(days=6)))
                         for task, week in weeks)))
            .group_by(EventRollup.subject))
    return dict(session.execute(days).all())


def _task_categories(session: Session, since: date) -> dict[str, str]:
    query = (select(TicketRollup.task, TicketRollup.category, func.sum(TicketRollup.tickets))
             .where(TicketRollup.grain == "w", TicketRollup.outcome == "deflected_by_task",
                    TicketRollup.day >= since - timedelta(days=6), TicketRollup.category != "",
                    TicketRollup.task != "")
             .group_by(TicketRollup.task, TicketRollup.category))
    best: dict[str, tuple[int, str]] = {}
    for task, category, tickets in session.execute(query):
        if (int(tickets or 0), category) > best.get(task, (0, "")):
            best[task] = (int(tickets or 0), category)
    return {task: category for task, (_count, category) in best.items()}


def _windows(session: Session, team: str, wanted: list[tuple[str, str, date, int]]) -> dict[tuple[str, str], list]:
    """For each (task, category, first run, days): [escalations, tickets] in the days before and from it.

    One statement for every window (a UNION ALL, as windows of tasks in one category overlap),
    each reading whole weeks from the weekly rows and only its ends from the daily ones.
    """
    is_escalated = case((OutcomeRollup.outcome == "escalated", 1), else_=0)
    parts = []
    for task, category, first, days in wanted:
        span = timedelta(days=days)
        for side, start, end in (("before", first - span, first - timedelta(days=1)),
                                 ("after", first, first + span - timedelta(days=1))):
            parts.append(select(literal(task).label("task"), literal(side).label("side"),
                                is_escalated.label("escalated"), func.sum(OutcomeRollup.tickets).label("tickets"))
                         .where(in_range(OutcomeRollup, start, end), OutcomeRollup.category == category,
                                *([OutcomeRollup.team == team] if team else []))
                         .group_by(is_escalated))
    counts: dict[tuple[str, str], list] = {(task, side): [0, 0] for task, *_rest in wanted
                                           for side in ("before", "after")}
    if parts:
        if session.get_bind().dialect.name == "postgresql":
            # The statement is long but cheap; starting parallel workers for it cost ten times the read.
            session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        for task, side, escalated, tickets in session.execute(union_all(*parts)):
            counts[(task, side)][1] += int(tickets or 0)
            if escalated:
                counts[(task, side)][0] += int(tickets or 0)
    return counts


def impact(session: Session, stats_filter: StatsFilter, *, today: date, days: int = IMPACT_DAYS) -> list[dict]:
    """For each task that has run: escalations in its category before and after its first run."""
    first_runs = _first_runs(session)
    data_start = session.scalar(select(func.min(OutcomeRollup.day)).where(OutcomeRollup.grain == "d"))
    if not first_runs or data_start is None:
        return []
    categories = _task_categories(session, min(first_runs.values()))
    rows, wanted = [], []
    for task, first in sorted(first_runs.items(), key=lambda item: (item[1], item[0])):
        category = categories.get(task, "")
        if stats_filter.category and category != stats_filter.category:
            continue
        window = min(days, (today - first).days, (first - data_start).days)
        row = {"task": task, "category": category, "first_run": first.isoformat(), "window_days": max(window, 0),
               "escalations_before": None, "escalations_after": None, "tickets_before": None,
               "tickets_after": None, "change": None, "note": ""}
        if not category:
            row["note"] = "no category yet"
        elif (first - data_start).days < MIN_IMPACT_DAYS:
            row["note"] = "in use since the records start"
        elif (today - first).days < MIN_IMPACT_DAYS:
            row["note"] = "too early to tell"
        else:
            wanted.append((task, category, first, window))
        rows.append(row)
    counts = _windows(session, stats_filter.team, wanted)
    for row in rows:
        if (row["task"], "before") not in counts or row["note"]:
            continue
        (row["escalations_before"], row["tickets_before"]) = counts[(row["task"], "before")]
        (row["escalations_after"], row["tickets_after"]) = counts[(row["task"], "after")]
        if row["escalations_before"]:
            row["change"] = round((row["escalations_after"] - row["escalations_before"]) / row["escalations_before"], 4)
    return rows


def runbook_gaps(session: Session, stats_filter: StatsFilter, limit: int = 20) -> dict:
    """Runbooks read on tickets that were escalated anyway, most such escalations first."""
    query = (select(EventRollup.kind, EventRollup.subject, func.sum(EventRollup.events))
             .where(EventRollup.kind.in_(("runbook_viewed", "runbook_then_escalated")),
                    *matching(EventRollup, StatsFilter(stats_filter.start, stats_filter.end, "", stats_filter.team)))
             .group_by(EventRollup.kind, EventRollup.subject))
    views: Counter = Counter()
    escalated: Counter = Counter()
    for kind, runbook, events in session.execute(query):
        (views if kind == "runbook_viewed" else escalated)[runbook] += int(events or 0)
    rows = [{"runbook": runbook, "escalated_after": count, "views": views.get(runbook, 0),
             "share": round(count / views[runbook], 4) if views.get(runbook) else 0.0}
            for runbook, count in escalated.items() if count]
    rows.sort(key=lambda row: (-row["escalated_after"], row["runbook"]))
    return {"escalated_after_reading": rows[:limit]}


SEARCH_GAPS = "deflection_search_gaps"


def add_search_gaps(app, search_gaps: Callable[..., list]) -> None:
    """Feed the searches panel: `search_gaps(session, since=, until=, limit=)` gives the searches that found
    nothing, each with terms, example, searches and last_searched. The runbooks domain, which records them and
    stands above this one, registers it; without it the panel is empty."""
    app.extensions[SEARCH_GAPS] = search_gaps


def unanswered_searches(session: Session, stats_filter: StatsFilter, limit: int = 20) -> list[dict]:
    """Searches that found no runbook in the range (recorded by the runbooks domain), most searched first."""
    search_gaps = current_app.extensions.get(SEARCH_GAPS)
    if search_gaps is None:
        return []
    since = datetime.combine(stats_filter.start, time.min)
    until = datetime.combine(stats_filter.end + timedelta(days=1), time.min)
    return [{"terms": gap.terms, "example": gap.example, "searches": gap.searches,
             "last_searched": gap.last_searched.isoformat(timespec="seconds")}
            for gap in search_gaps(session, since=since, until=until, limit=limit)]
