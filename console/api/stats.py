"""Deflection statistics over JSON: the contract's /stats/deflection, and the dashboard's other panels."""
from __future__ import annotations

from flask import jsonify, request

from sqlalchemy.exc import SQLAlchemyError

from console.api.base import ApiError, api_user, bp, json_body, query_int, require
from console.api.describe import Query, documented
from console.api.schemas import GROUP_BY, OPTIONAL_DAY, or_empty
from console.db import console_session, utcnow
from console.deflection import insights, metrics, ranking, sprints
from console.deflection.metrics import FilterError
from console.deflection.scope import capacity_hours, forced_team
from console.permissions import MANAGE_SPRINTS, READ_STATS, READ_TEAM_STATS


RANGE = (Query("from", OPTIONAL_DAY, "the first day (default: a Monday about 180 days before `to`)"),
         Query("to", OPTIONAL_DAY, f"the last day (default: today); a range covers fewer than {metrics.MAX_DAYS} days"),
         Query("category", {"type": "string"}, "only this ticket category"),
         Query("team", {"type": "string"}, "only this team (an agent always sees their own)"))
LIMIT = Query("limit", or_empty({"type": "integer", "minimum": 1, "maximum": 500}), "at most this many rows (default 20)")


def _filter(default_days: int = metrics.DEFAULT_DAYS) -> metrics.StatsFilter:
    try:
        return metrics.parse_filter(request.args, today=utcnow().date(), forced_team=forced_team(api_user()),
                                    default_days=default_days)
    except FilterError as exc:
        raise ApiError(400, "invalid", str(exc), exc.fields) from None


@bp.get("/stats/deflection")
@require(READ_TEAM_STATS)
@documented("Deflection totals, and rows by week, category or task", answers={200: "DeflectionStats"},
            query=RANGE + (Query("group_by", GROUP_BY, "rows by `week` (the default), `category` or `task`"),))
def deflection_stats():
    """Totals and rows by week, category or task; an agent's answer covers their own team."""
    stats_filter = _filter()
    group_by = request.args.get("group_by") or "week"
    try:
        answer = metrics.deflection(console_session(), stats_filter, group_by)
    except FilterError as exc:
        raise ApiError(400, "invalid", str(exc), {exc.field: str(exc)}) from None
    return jsonify(answer | _scope(stats_filter))


@bp.get("/stats/opportunities")
@require(READ_TEAM_STATS)
@documented("The tool-opportunity ranking", answers={200: "StatsRows"}, query=RANGE + (LIMIT,),
            description="`rows` are the missing tools, best first, scored in developer minutes; `existing` are "
                        "answers naming a task or runbook that exists, each with its verdict.")
def opportunity_stats():
    """The tool-opportunity ranking over the 90 days up to `to`: missing tools, and existing ones asked for."""
    stats_filter = _filter()
    limit = query_int("limit", 20, 1, 500)
    return jsonify(ranking.ranking(console_session(), stats_filter, limit=limit) | _scope(stats_filter))


@bp.get("/stats/support-tax")
@require(READ_TEAM_STATS)
@documented("Developer hours on escalations per week, against capacity", answers={200: "StatsRows"}, query=RANGE)
def support_tax_stats():
    """Developer hours on escalations per week against TEAM_CAPACITY_HOURS."""
    stats_filter = _filter()
    return jsonify(metrics.support_tax(console_session(), stats_filter, capacity_hours()) | _scope(stats_filter))


@bp.get("/stats/tool-health")
@require(READ_TEAM_STATS)
@documented("Each task's uses, failures, undos and false deflections", answers={200: "StatsRows"}, query=RANGE)
def tool_health_stats():
    stats_filter = _filter()
    return jsonify({"rows": insights.tool_health(console_session(), stats_filter)} | _scope(stats_filter))


@bp.get("/stats/impact")
@require(READ_TEAM_STATS)
@documented("Each tool's before/after impact since it shipped", answers={200: "StatsRows"}, query=RANGE)
def impact_stats():
    stats_filter = _filter()
    rows = insights.impact(console_session(), stats_filter, today=utcnow().date())
    return jsonify({"rows": rows} | _scope(stats_filter))


def _scope(stats_filter: metrics.StatsFilter) -> dict:
    return {"from": stats_filter.start.isoformat(), "to": stats_filter.end.isoformat(),
            "category": stats_filter.category or None, "team": stats_filter.team or None}


@bp.get("/sprints")
@require(READ_STATS)
@documented("The recorded sprints with velocity and support tax, and the figure to plan the next one with",
            answers={200: "SprintList"}, query=(Query("team", {"type": "string"}, "support hours of this team only"),))
def list_sprints():
    """The last 12 sprints, oldest first, with their support hours and escalations, and the plan."""
    team = (request.args.get("team") or "").strip()[:60]
    return jsonify(sprints.velocity(console_session(), capacity_hours(), team=team, today=utcnow().date()))


@bp.post("/sprints")
@require(MANAGE_SPRINTS)
@documented("Record a sprint's story points, planned and completed", answers={201: "SprintAnswer"},
            body="SprintRequest", errors=(409,), description="A sprint overlapping a recorded one gets a 409.")
def record_sprint():
    """Record a sprint; a 400 names each bad field, a 409 the sprint it overlaps or the name taken."""
    session = console_session()
    try:
        sprint = sprints.add_sprint(session, sprints.parse_sprint(json_body()), actor=api_user().email)
        session.commit()
    except sprints.SprintError as exc:
        session.rollback()
        raise ApiError(409 if exc.conflict else 400, "conflict" if exc.conflict else "invalid", str(exc),
                       exc.errors) from None
    except SQLAlchemyError as exc:
        session.rollback()
        raise ApiError(503, "unavailable", f"the sprint could not be recorded ({exc.__class__.__name__})") from exc
    return jsonify({"sprint": sprints.sprint_to_dict(sprint)}), 201
