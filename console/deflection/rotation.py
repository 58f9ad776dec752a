"""Support rotation: which developer is the first point of contact, sprint by sprint.

Configuration (app config, read from the environment by `console.deflection.init_app`):

- `SUPPORT_ROTATION` (`CONSOLE_SUPPORT_ROTATION`, comma-separated emails): the developers who
  take turns, in order. Empty: every active developer, ordered by email.
- `SPRINT_DAYS` (`CONSOLE_SPRINT_DAYS`, default 14): the length of a sprint and of a turn.
- `SPRINT_START` (`CONSOLE_SPRINT_START`, default 2024-01-01, a Monday): the first day of a
  sprint; every sprint starts a whole number of SPRINT_DAYS before or after it.

Sprint n (counted from SPRINT_START) is covered by rotation[n mod len(rotation)], so the duty
moves on every sprint and comes back round. Escalations are assigned to whoever is on duty at
the moment they are made.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.auth.models import StaffUser
from console.config import ConfigError

DEFAULT_SPRINT_START = date(2024, 1, 1)


@dataclass(frozen=True)
class Duty:
    """One sprint's turn on support."""

    developer: str
    starts: date
    ends: date  # the last day of the sprint, inclusive


def sprint_settings(config=None) -> tuple[int, date]:
    config = config if config is not None else current_app.config
    days = int(config.get("SPRINT_DAYS") or 14)
    start = config.get("SPRINT_START") or DEFAULT_SPRINT_START
    if isinstance(start, str):
        start = date.fromisoformat(start)
    return max(days, 1), start


def rotation_setting(config=None) -> list[str]:
    """The emails SUPPORT_ROTATION names, lower-cased, in turn order (empty: not configured)."""
    config = config if config is not None else current_app.config
    configured = config.get("SUPPORT_ROTATION") or []
    if isinstance(configured, str):
        configured = [email.strip() for email in configured.split(",")]
    return [email.strip().lower() for email in configured if email and email.strip()]


def rotation(session: Session, config=None) -> list[str]:
    """The developers on the rotation, in turn order."""
    configured = rotation_setting(config)
    if configured:
        return configured
    return list(session.scalars(select(StaffUser.email).where(StaffUser.role == "developer",
                                                              StaffUser.active.is_(True))
                                .order_by(StaffUser.email)))


def check_rotation(session: Session, config=None) -> None:
    """Refuse start-up when SUPPORT_ROTATION names anyone but an enabled developer (ConfigError).

    Their turn would otherwise route every escalation to nobody. An empty rotation asks nothing
    of the database.
    """
    configured = rotation_setting(config)
    if not configured:
        return
    enabled = set(session.scalars(select(StaffUser.email).where(StaffUser.role == "developer",
                                                                StaffUser.active.is_(True),
                                                                StaffUser.email.in_(configured))))
    missing = [email for email in configured if email not in enabled]
    if missing:
        raise ConfigError(f"CONSOLE_SUPPORT_ROTATION: {missing[0]} is not an enabled developer, so escalations "
                          "on their turn would reach nobody")


def duty_on(session: Session, when: date | datetime, config=None, *, developers: list[str] | None = None) -> Duty | None:
    """Who is on support duty on that day (None when nobody is on the rotation)."""
    day = when.date() if isinstance(when, datetime) else when
    developers = developers if developers is not None else rotation(session, config)
    if not developers:
        return None
    length, start = sprint_settings(config)
    sprint = (day - start).days // length
    starts = start + timedelta(days=sprint * length)
    return Duty(developers[sprint % len(developers)], starts, starts + timedelta(days=length - 1))


def schedule(session: Session, when: date, sprints: int = 4, config=None) -> list[Duty]:
    """The duty of the sprint holding `when` and of the next ones."""
    developers = rotation(session, config)
    if not developers:
        return []
    duties, day = [], when
    for _ in range(sprints):
        duty = duty_on(session, day, config, developers=developers)
        duties.append(duty)
        day = duty.ends + timedelta(days=1)
    return duties
