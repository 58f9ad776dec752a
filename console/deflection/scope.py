"""What a reader's statistics cover: the team an agent is pinned to, and the team's weekly capacity.

The dashboard and the API both ask these questions, so they live below both.
"""
from __future__ import annotations

from flask import current_app

from console.deflection.metrics import DEFAULT_CAPACITY_HOURS
from console.permissions import READ_STATS, user_can


def forced_team(user) -> str | None:
    """Readers of the team view only (agents) are pinned to their own team."""
    return None if user_can(user, READ_STATS) else (getattr(user, "team", "") or "support")


def capacity_hours() -> float:
    return float(current_app.config.get("TEAM_CAPACITY_HOURS") or DEFAULT_CAPACITY_HOURS)
