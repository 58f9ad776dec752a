"""Sprints and their velocity, against the support tax: what the team records, and what it plans with.

A sprint is recorded once its points are known: a name, its first and last day, the story points
planned and completed. Sprints never overlap. Each sprint's support hours and escalations are read
from the event rollup over its days; its capacity is TEAM_CAPACITY_HOURS a week, prorated to its days.
The figure to plan the next sprint with is the median completed points of the last PLAN_FROM sprints,
with their lowest and highest as the range.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.audit.chain import append as audit
from console.dates import DateError, query_date
from console.deflection.models import EventRollup, Sprint

PLAN_FROM = 5
MAX_POINTS = 10_000
MAX_SPRINT_DAYS = 62
SHOWN = 12


class SprintError(ValueError):
    """Bad sprint input: `errors` names each bad field; `conflict` when it clashes with a recorded sprint."""

    def __init__(self, errors: dict[str, str], *, conflict: bool = False):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors
        self.conflict = conflict


@dataclass(frozen=True)
class SprintRequest:
    name: str
    starts_on: date
    ends_on: date
    planned_points: int
    completed_points: int


def _points(data: dict, name: str, errors: dict, *, form: bool) -> int | None:
    value = data.get(name)
    if form and isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())  # the form's "21" (JSON says 21)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = f"{name} must be a whole number of story points"
    elif not 0 <= value <= MAX_POINTS:
        errors[name] = f"{name} must be between 0 and {MAX_POINTS}"
    else:
        return value
    return None


def _day(data: dict, name: str, errors: dict) -> date | None:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[name] = f"{name} is required, a date written YYYY-MM-DD"
        return None
    try:
        return query_date({name: value}, name)
    except DateError as exc:
        errors[name] = exc.message
        return None


def parse_sprint(data: dict, *, form: bool = False) -> SprintRequest:
    """Validate a sprint (JSON, or a `form`'s text); SprintError names every bad field at once."""
    errors: dict[str, str] = {}
    name = data.get("name")
    if not isinstance(name, str) or not " ".join(name.split()):
        errors["name"] = "name is required (such as Sprint 42)"
    elif len(name) > 60:
        errors["name"] = "name is at most 60 characters"
    starts_on, ends_on = _day(data, "starts_on", errors), _day(data, "ends_on", errors)
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = f"ends_on ({ends_on}) is before starts_on ({starts_on})"
    elif starts_on and ends_on and (ends_on - starts_on).days >= MAX_SPRINT_DAYS:
        errors["ends_on"] = f"a sprint lasts at most {MAX_SPRINT_DAYS} days"
    planned = _points(data, "planned_points", errors, form=form)
    completed = _points(data, "completed_points", errors, form=form)
    if errors:
        raise SprintError(errors)
    return SprintRequest(" ".join(name.split()), starts_on, ends_on, planned, completed)


def add_sprint(session: Session, request: SprintRequest, *, actor: str) -> Sprint:
    """Record a sprint and its audit entry in the caller's transaction; SprintError on a clash. No commit."""
    same_name = session.scalar(select(Sprint.id).where(func.lower(Sprint.name) == request.name.lower()))
    if same_name is not None:
        raise SprintError({"name": f"there is already a sprint called {request.name!r}"}, conflict=True)
    clash = session.scalar(select(Sprint).where(Sprint.starts_on <= request.ends_on,
                                                Sprint.ends_on >= request.starts_on).order_by(Sprint.starts_on))
    if clash is not None:
        raise SprintError({"starts_on": f"the sprint overlaps {clash.name} ({clash.starts_on} to {clash.ends_on})"},
                          conflict=True)
    sprint = Sprint(name=request.name, starts_on=request.starts_on, ends_on=request.ends_on,
                    planned_points=request.planned_points, completed_points=request.completed_points,
                    created_by=actor)
    session.add(sprint)
    session.flush()
    audit(session, actor=actor, action="sprint.recorded", subject_type="sprint", subject_id=sprint.id,
          details=sprint_to_dict(sprint))
    return sprint


def recent_sprints(session: Session, *, until: date | None = None, limit: int = SHOWN) -> list[Sprint]:
    """The last `limit` sprints (started by `until`, when given), oldest first."""
    query = select(Sprint).order_by(Sprint.starts_on.desc()).limit(limit)
    if until is not None:
        query = query.where(Sprint.starts_on <= until)
    return list(reversed(session.scalars(query).all()))


def sprint_to_dict(sprint: Sprint) -> dict:
    return {"id": sprint.id, "name": sprint.name, "starts_on": sprint.starts_on.isoformat(),
            "ends_on": sprint.ends_on.isoformat(), "planned_points": sprint.planned_points,
            "completed_points": sprint.completed_points}


def _support(session: Session, sprints: list[Sprint], team: str) -> dict[int, tuple[int, int]]:
    """(developer minutes, escalations) per sprint, from one read of the daily rollup over their days."""
    if not sprints:
        return {}
    query = (select(EventRollup.day, EventRollup.kind, func.sum(EventRollup.minutes), func.sum(EventRollup.events))
             .where(EventRollup.grain == "d", EventRollup.kind.in_(("dev_time", "escalated")),
                    EventRollup.day.between(sprints[0].starts_on, max(s.ends_on for s in sprints)),
                    *([EventRollup.team == team] if team else []))
             .group_by(EventRollup.day, EventRollup.kind))
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, kind, minutes, events in session.execute(query):
        if kind == "dev_time":
            by_day[day][0] += int(minutes or 0)
        else:
            by_day[day][1] += int(events or 0)
    support = {}
    for sprint in sprints:
        days = [sprint.starts_on + timedelta(days=n) for n in range((sprint.ends_on - sprint.starts_on).days + 1)]
        support[sprint.id] = (sum(by_day[day][0] for day in days if day in by_day),
                              sum(by_day[day][1] for day in days if day in by_day))
    return support


def velocity(session: Session, capacity_hours_per_week: float, *, team: str = "", until: date | None = None,
             today: date | None = None) -> dict:
    """Per sprint: points planned and completed, support hours, escalations and the tax as a share of
    capacity; and the plan for the next sprint (median completed points of the last PLAN_FROM sprints that
    ended before `today`, with their range: a sprint under way has not completed its points yet)."""
    sprints = recent_sprints(session, until=until)
    support = _support(session, sprints, team)
    rows = []
    for sprint in sprints:
        minutes, escalations = support.get(sprint.id, (0, 0))
        days = (sprint.ends_on - sprint.starts_on).days + 1
        capacity = round(capacity_hours_per_week * days / 7, 2)
        hours = round(minutes / 60, 2)
        rows.append(sprint_to_dict(sprint) | {
            "days": days, "support_hours": hours, "escalations": escalations, "capacity_hours": capacity,
            "tax_share": round(hours / capacity, 4) if capacity else 0.0})
    ended = [row for row in rows if today is None or row["ends_on"] < today.isoformat()][-PLAN_FROM:]
    basis = [row["completed_points"] for row in ended]
    plan = ({"points": median(basis), "low": min(basis), "high": max(basis), "sprints": len(basis),
             "tax_share": round(median(row["tax_share"] for row in ended), 4)} if basis else None)
    return {"rows": rows, "plan": plan, "capacity_hours_per_week": capacity_hours_per_week}
