"""Support rotation: which developer is the first point of contact, sprint by sprint.

Configuration (app config, read from the environment by `console.deflection.init_app`):

- `SUPPORT_ROTATION` (`CONSOLE_SUPPORT_ROTATION`, comma-separated emails): the developers who
  take turns, in order. Empty: every active developer, ordered by email.
- `SPRINT_DAYS` (`CONSOLE_SPRINT_DAYS`, default 14): the length of a sprint and of a turn.
- `SPRINT_START` (`CONSOLE_SPRINT_START`, default 2024-01-01, a Monday): the first day of a
  sprint; every sprint starts a whole number of SPRINT_DAYS before or after it.

- `CATEGORY_TEAMS` (`CONSOLE_CATEGORY_TEAMS`, `category=team` pairs, comma-separated): which
  team answers which ticket category, the team being the developers' own `team` field. Empty: one
  rotation for everyone.
- `DUTY_BY` (`CONSOLE_DUTY_BY`, `person` or `team`, default `person`): with `person`, every team
  has one developer on duty each sprint, and an escalation goes to the person on duty in its
  category's team; with `team`, the teams take the whole duty in turns, sprint by sprint, and the
  team on duty passes it round its own developers on each of its turns.

Sprint n (counted from SPRINT_START) is covered by rotation[n mod len(rotation)], so the duty
moves on every sprint and comes back round. Escalations are assigned to whoever is on duty at
the moment they are made, for their category.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
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
    team: str = ""  # the team whose turn it is; empty with a single rotation


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


def category_teams(config=None) -> dict[str, str]:
    """CATEGORY_TEAMS as {category: team}, both lower-cased (empty: a single rotation)."""
    config = config if config is not None else current_app.config
    configured = config.get("CATEGORY_TEAMS") or {}
    if isinstance(configured, dict):
        return {str(k).strip().lower(): str(v).strip().lower() for k, v in configured.items()}
    pairs = {}
    for item in str(configured).split(","):
        category, _, team = item.partition("=")
        if item.strip():
            pairs[category.strip().lower()] = team.strip().lower()
    return pairs


def duty_by(config=None) -> str:
    config = config if config is not None else current_app.config
    return (config.get("DUTY_BY") or "person").strip().lower()


def teams(session: Session, config=None) -> dict[str, list[str]]:
    """{team: its developers in turn order} for the teams CATEGORY_TEAMS names, sorted by team name.

    The order within a team follows SUPPORT_ROTATION when it names them, else their emails.
    """
    config = config if config is not None else current_app.config
    wanted = sorted(set(category_teams(config).values()))
    if not wanted:
        return {}
    rows = session.execute(select(StaffUser.email, StaffUser.team)
                           .where(StaffUser.role == "developer", StaffUser.active.is_(True))
                           .order_by(StaffUser.email)).all()
    order = {email: n for n, email in enumerate(rotation_setting(config))}
    members: dict[str, list[str]] = {team: [] for team in wanted}
    for email, team in sorted(rows, key=lambda row: (order.get(row[0].lower(), len(order)), row[0])):
        team = (team or "").strip().lower()
        if team in members:
            members[team].append(email.lower())
    return members


def check_teams(session: Session, config=None) -> None:
    """Refuse start-up when CATEGORY_TEAMS is malformed or names a team without an enabled developer."""
    config = config if config is not None else current_app.config
    mode = duty_by(config)
    if mode not in ("person", "team"):
        raise ConfigError(f"CONSOLE_DUTY_BY must be person or team, not {mode!r}")
    pairs = category_teams(config)
    for category, team in pairs.items():
        if not category or not team:
            raise ConfigError("CONSOLE_CATEGORY_TEAMS must be category=team pairs separated by commas, "
                              f"e.g. payments=billing,account=platform; {category or '?'}={team or '?'} is not one")
    for team, members in teams(session, config).items():
        if not members:
            raise ConfigError(f"CONSOLE_CATEGORY_TEAMS: team {team!r} has no enabled developer (a developer's team "
                              "is set on their staff account), so its escalations would reach nobody")


def _sprint(day: date, config) -> tuple[int, date, date]:
    length, start = sprint_settings(config)
    number = (day - start).days // length
    starts = start + timedelta(days=number * length)
    return number, starts, starts + timedelta(days=length - 1)


def duty_for(session: Session, when: date | datetime, category: str = "", config=None) -> Duty | None:
    """Who takes an escalation of `category` made then: routed by team when CATEGORY_TEAMS is set.

    A category no team answers, or an empty one, goes to the single rotation.
    """
    config = config if config is not None else (current_app.config if has_app_context() else {})
    crews = teams(session, config) if session is not None else {}
    if not crews:
        return duty_on(session, when, config)
    day = when.date() if isinstance(when, datetime) else when
    number, starts, ends = _sprint(day, config)
    if duty_by(config) == "team":
        names = sorted(crews)
        team = names[number % len(names)]
        members = crews[team]
        return Duty(members[(number // len(names)) % len(members)], starts, ends, team)
    team = category_teams(config).get((category or "").strip().lower())
    if team not in crews:
        return duty_on(session, when, config)
    members = crews[team]
    return Duty(members[number % len(members)], starts, ends, team)


def duties_now(session: Session, when: date | datetime, config=None) -> list[Duty]:
    """Everyone on duty then: one per team (or the one team on duty), or the single rotation's person."""
    config = config if config is not None else current_app.config
    crews = teams(session, config)
    if not crews:
        duty = duty_on(session, when, config)
        return [duty] if duty else []
    if duty_by(config) == "team":
        return [duty_for(session, when, "", config)]
    reverse = {team: category for category, team in category_teams(config).items()}
    return [duty_for(session, when, reverse[team], config) for team in sorted(crews)]
