"""Deflection metrics read from the rollups: the rate by week, category or task, the funnel, the support tax.

Definitions: a ticket counts on the day its outcome was reached (`closed_at`);
`tickets` counts every ticket with an outcome in the range (open tickets have none);
`deflected` = deflected_by_task + deflected_by_runbook; the deflection rate is
deflected ÷ (deflected + escalated), 0 when both are 0. Ranges are whole days, both ends
included, in UTC.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from console.dates import DateError, query_date
from console.deflection.models import DEFLECTED, ESCALATION_CLASSES, EventRollup, OutcomeRollup, TicketRollup

GROUPS = ("week", "category", "task")
DEFAULT_DAYS = 182  # 26 weeks: the half-year the product owner plans with
MAX_DAYS = 3660
DEFAULT_CAPACITY_HOURS = 200.0  # five developers, forty hours a week


class FilterError(ValueError):
    """A bad filter value; `field` names it (the first, when several are bad), `fields` each with its message."""

    def __init__(self, field: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field
        self.fields = fields or {field: message}


@dataclass(frozen=True)
class StatsFilter:
    """What every panel is restricted to: a date range (inclusive), and optionally a category and a team."""

    start: date
    end: date
    category: str = ""
    team: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_filter(args, *, today: date, forced_team: str | None = None, default_days: int = DEFAULT_DAYS) -> StatsFilter:
    """Read from, to, category and team (query arguments); FilterError names a bad one.

    Without `to` the range ends today; without `from` it starts on the Monday that makes it
    `default_days` long at most (whole weeks for the weekly charts).
    `forced_team` pins the team (an agent sees their own team only).
    """
    start, end = _dates(args)
    end = end or today
    start = start or week_of(end) - timedelta(weeks=(default_days - 1) // 7)
    if start > end:
        raise FilterError("from", f"from ({start}) is after to ({end})")
    if (end - start).days >= MAX_DAYS:
        raise FilterError("from", f"a range covers at most {MAX_DAYS} days")
    category = " ".join((args.get("category") or "").split()).lower()[:60]
    team = forced_team if forced_team is not None else (args.get("team") or "").strip()[:60]
    return StatsFilter(start, end, category, team)


def _dates(args) -> tuple[date | None, date | None]:
    """Both ends of the range; FilterError names every bad one, not only the first."""
    found, problems = {}, {}
    for name in ("from", "to"):
        try:
            found[name] = query_date(args, name)
        except DateError as exc:
            problems[name] = exc.message
    if problems:
        raise FilterError(next(iter(problems)), "; ".join(problems.values()), problems)
    return found["from"], found["to"]


def in_range(model, start: date, end: date):
    """The rollup rows that cover [start, end] exactly once: whole weeks weekly, the ragged ends daily."""
    first_week = start if start.weekday() == 0 else week_of(start) + timedelta(weeks=1)
    last_week = week_of(end) if end.weekday() == 6 else week_of(end) - timedelta(weeks=1)
    if first_week > last_week:
        return and_(model.grain == "d", model.day.between(start, end))
    parts = [and_(model.grain == "w", model.day.between(first_week, last_week))]
    if start < first_week:
        parts.append(and_(model.grain == "d", model.day.between(start, first_week - timedelta(days=1))))
    if end > last_week + timedelta(days=6):
        parts.append(and_(model.grain == "d", model.day.between(last_week + timedelta(weeks=1), end)))
    return or_(*parts)


def matching(model, stats_filter: StatsFilter, *, dated: bool = True) -> list:
    """What a row of the rollup `model` meets to match the filter: its dates (unless not `dated`), category, team."""
    conditions = [in_range(model, stats_filter.start, stats_filter.end)] if dated else []
    if stats_filter.category:
        conditions.append(model.category == stats_filter.category)
    if stats_filter.team:
        conditions.append(model.team == stats_filter.team)
    return conditions


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(stats_filter: StatsFilter) -> list[date]:
    first, last = week_of(stats_filter.start), week_of(stats_filter.end)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def outcome_counts(counts: dict[str, int]) -> dict:
    """The numbers of one row: tickets, each outcome, deflected and the deflection rate."""
    deflected = sum(counts.get(name, 0) for name in DEFLECTED)
    escalated = counts.get("escalated", 0)
    decided = deflected + escalated
    return {
        "tickets": sum(counts.values()),
        "deflected": deflected,
        "escalated": escalated,
        "deflection_rate": round(deflected / decided, 4) if decided else 0.0,
        "deflected_by_task": counts.get("deflected_by_task", 0),
        "deflected_by_runbook": counts.get("deflected_by_runbook", 0),
        "resolved": counts.get("resolved", 0),
    }


def deflection(session: Session, stats_filter: StatsFilter, group_by: str = "week") -> dict:
    """The contract's `GET /stats/deflection` answer: totals and one row per week, category or task."""
    if group_by not in GROUPS:
        raise FilterError("group_by", "group_by must be one of: " + ", ".join(GROUPS))
    model = TicketRollup if group_by == "task" else OutcomeRollup
    column = getattr(model, "day" if group_by == "week" else group_by)
    query = (select(column, model.outcome, func.sum(model.tickets))
             .where(*matching(model, stats_filter)).group_by(column, model.outcome))
    grouped: dict = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for key, outcome, tickets in session.execute(query):
        tickets = int(tickets or 0)
        if group_by == "week":
            key = week_of(key)
        grouped[key][outcome] += tickets
        totals[outcome] += tickets
    if group_by == "week":
        rows = [{"week": week.isoformat()} | outcome_counts(grouped.get(week, {})) for week in weeks(stats_filter)]
    else:
        rows = [{group_by: key} | outcome_counts(counts) for key, counts in grouped.items()]
        rows = [row for row in rows if row["tickets"]]
        rows.sort(key=lambda row: (-row["tickets"], row[group_by]))
    return {"from": stats_filter.start.isoformat(), "to": stats_filter.end.isoformat(), "group_by": group_by,
            "totals": outcome_counts(totals), "rows": rows}


def funnel(session: Session, stats_filter: StatsFilter) -> list[dict]:
    """Per category: tickets, solved with a task, with a runbook, otherwise, and escalated by class."""
    query = (select(OutcomeRollup.category, OutcomeRollup.outcome, OutcomeRollup.escalation_class,
                    func.sum(OutcomeRollup.tickets))
             .where(*matching(OutcomeRollup, stats_filter))
             .group_by(OutcomeRollup.category, OutcomeRollup.outcome, OutcomeRollup.escalation_class))
    rows: dict[str, dict] = {}
    for category, outcome, escalation_class, tickets in session.execute(query):
        row = rows.setdefault(category, {"category": category, "tickets": 0, "deflected_by_task": 0,
                                         "deflected_by_runbook": 0, "resolved": 0, "escalated": 0}
                              | {name: 0 for name in ESCALATION_CLASSES})
        tickets = int(tickets or 0)
        row["tickets"] += tickets
        row[outcome] += tickets
        if outcome == "escalated" and escalation_class in ESCALATION_CLASSES:
            row[escalation_class] += tickets
    return sorted((row for row in rows.values() if row["tickets"]), key=lambda row: (-row["tickets"], row["category"]))


def support_tax(session: Session, stats_filter: StatsFilter, capacity_hours: float) -> dict:
    """Developer hours logged on escalations each week, against the team's weekly capacity.

    Time counts on the day it was logged. A week cut by the range gets its share of the capacity.
    """
    query = (select(EventRollup.day, EventRollup.kind, func.sum(EventRollup.minutes), func.sum(EventRollup.events))
             .where(EventRollup.kind.in_(("dev_time", "escalated")), *matching(EventRollup, stats_filter))
             .group_by(EventRollup.day, EventRollup.kind))
    minutes: dict[date, int] = defaultdict(int)
    escalations: dict[date, int] = defaultdict(int)
    for day, kind, logged, events in session.execute(query):
        if kind == "dev_time":
            minutes[week_of(day)] += int(logged or 0)
        else:
            escalations[week_of(day)] += int(events or 0)
    rows = []
    for week in weeks(stats_filter):
        days = (min(week + timedelta(days=6), stats_filter.end) - max(week, stats_filter.start)).days + 1
        capacity = round(capacity_hours * days / 7, 2)
        hours = round(minutes.get(week, 0) / 60, 2)
        rows.append({"week": week.isoformat(), "days": days, "dev_hours": hours, "capacity_hours": capacity,
                     "share": round(hours / capacity, 4) if capacity else 0.0,
                     "escalations": escalations.get(week, 0)})
    total_hours = round(sum(minutes.values()) / 60, 2)
    total_capacity = round(capacity_hours * stats_filter.days / 7, 2)
    return {"from": stats_filter.start.isoformat(), "to": stats_filter.end.isoformat(),
            "capacity_hours_per_week": capacity_hours,
            "totals": {"dev_hours": total_hours, "capacity_hours": total_capacity,
                       "share": round(total_hours / total_capacity, 4) if total_capacity else 0.0,
                       "escalations": sum(escalations.values())},
            "rows": rows}


def previous(stats_filter: StatsFilter) -> StatsFilter:
    """The range of the same length just before this one."""
    return replace(stats_filter, start=stats_filter.start - timedelta(days=stats_filter.days),
                   end=stats_filter.start - timedelta(days=1))
