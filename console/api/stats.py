"""Deflection statistics over JSON: the contract's /stats/deflection, and the dashboard's other panels."""
from __future__ import annotations

from flask import jsonify, request

from console.api import ApiError, api_user, bp, require
from console.auth.permissions import READ_TEAM_STATS
from console.db import console_session, utcnow
from console.deflection import insights, metrics
from console.deflection.metrics import FilterError
from console.deflection.views_dashboard import capacity_hours, forced_team


def _filter(default_days: int = metrics.DEFAULT_DAYS) -> metrics.StatsFilter:
    try:
        return metrics.parse_filter(request.args, today=utcnow().date(), forced_team=forced_team(api_user()),
                                    default_days=default_days)
    except FilterError as exc:
        raise ApiError(400, "invalid", str(exc), {exc.field: str(exc)}) from None


def _limit(default: int = 20) -> int:
    raw = request.args.get("limit")
    if raw in (None, ""):
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 500:  # "²".isdigit() is True
        raise ApiError(400, "invalid", "limit must be a whole number from 1 to 500", {"limit": "from 1 to 500"})
    return int(raw)


@bp.get("/stats/deflection")
@require(READ_TEAM_STATS)
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
def opportunity_stats():
    """The tool-opportunity ranking over the 90 days up to `to`."""
    stats_filter = _filter()
    rows = insights.opportunities(console_session(), stats_filter, limit=_limit())
    return jsonify({"rows": rows} | _scope(stats_filter))


@bp.get("/stats/support-tax")
@require(READ_TEAM_STATS)
def support_tax_stats():
    """Developer hours on escalations per week against TEAM_CAPACITY_HOURS."""
    stats_filter = _filter()
    return jsonify(metrics.support_tax(console_session(), stats_filter, capacity_hours()) | _scope(stats_filter))


@bp.get("/stats/tool-health")
@require(READ_TEAM_STATS)
def tool_health_stats():
    stats_filter = _filter()
    return jsonify({"rows": insights.tool_health(console_session(), stats_filter)} | _scope(stats_filter))


@bp.get("/stats/impact")
@require(READ_TEAM_STATS)
def impact_stats():
    stats_filter = _filter()
    rows = insights.impact(console_session(), stats_filter, today=utcnow().date())
    return jsonify({"rows": rows} | _scope(stats_filter))


def _scope(stats_filter: metrics.StatsFilter) -> dict:
    return {"from": stats_filter.start.isoformat(), "to": stats_filter.end.isoformat(),
            "category": stats_filter.category or None, "team": stats_filter.team or None}
