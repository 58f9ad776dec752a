"""Deflection statistics over JSON: the contract's /stats/deflection, and the dashboard's other panels."""
from __future__ import annotations

from flask import jsonify, request

from console.api import ApiError, api_user, bp, require
from console.api.describe import Query, documented
from console.api.schemas import GROUP_BY, OPTIONAL_DAY, or_empty
from console.db import console_session, utcnow
from console.deflection import insights, metrics
from console.deflection.metrics import FilterError
from console.deflection.scope import capacity_hours, forced_team
from console.permissions import READ_TEAM_STATS


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


def _limit(default: int = 20) -> int:
    raw = request.args.get("limit")
    if raw in (None, ""):
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 500:  # "²".isdigit() is True
        raise ApiError(400, "invalid", "limit must be a whole number from 1 to 500", {"limit": "from 1 to 500"})
    return int(raw)


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
@documented("The tool-opportunity ranking", answers={200: "StatsRows"}, query=RANGE + (LIMIT,))
def opportunity_stats():
    """The tool-opportunity ranking over the 90 days up to `to`."""
    stats_filter = _filter()
    rows = insights.opportunities(console_session(), stats_filter, limit=_limit())
    return jsonify({"rows": rows} | _scope(stats_filter))


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
