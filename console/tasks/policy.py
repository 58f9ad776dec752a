"""Policy: a run's risk, whether it needs approval, and per-task rate limits.

- Risk comes from the task: a fixed level, or a function of the typed parameters.
- `AMOUNT_CAPS` (role -> cents, default {"agent": 10000}): a Money parameter above the
  caller's cap needs approval, whatever the task's risk.
- `TASK_RATE_LIMITS` (task -> "N/second|minute|hour|day"), per actor. Runs are counted in
  the console database, so every process shares the limit. They are counted twice: before the
  preview, so that a limited request does no work, and again once the new run's row is written,
  under a lock on the actor's staff row, so that requests racing at the edge of the limit cannot
  all pass (on SQLite the write lock that the transaction began with does the same).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from console.db import console_session, utcnow
from console.tasks.spec import RISKS, TaskSpec

log = logging.getLogger(__name__)
DEFAULT_AMOUNT_CAPS = {"agent": 10000}
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*$")


@dataclass
class Decision:
    risk: str
    needs_approval: bool
    reasons: list[str] = field(default_factory=list)


def risk_of(spec: TaskSpec, params: dict) -> str:
    """The run's risk; a risk function that fails or answers nonsense counts as high (fail safe)."""
    if isinstance(spec.risk, str):
        return spec.risk
    try:
        risk = spec.risk(params)
    except Exception:
        log.exception("risk function of task %s failed; treating the run as high risk", spec.name)
        return "high"
    if risk not in RISKS:
        log.error("risk function of task %s returned %r; treating the run as high risk", spec.name, risk)
        return "high"
    return risk


def amount_caps(config=None) -> dict:
    config = config if config is not None else current_app.config
    caps = config.get("AMOUNT_CAPS")
    return DEFAULT_AMOUNT_CAPS if caps is None else caps


def decide(spec: TaskSpec, params: dict, risk: str, role: str) -> Decision:
    """Does this run need a second person's approval, and why."""
    reasons = []
    if risk == "high":
        reasons.append(f"\"{spec.title}\" is high risk with these parameters")
    cap = amount_caps().get(role)
    if cap is not None:
        for p in spec.params:
            value = params.get(p.name)
            if p.kind == "money" and value is not None and value > cap:
                reasons.append(f"{p.label} ({value} cents) is above the {role} limit of {cap} cents")
    return Decision(risk=risk, needs_approval=bool(reasons), reasons=reasons)


def parse_rate(text: str) -> tuple[int, int]:
    """'30/hour' -> (30, 3600); ValueError on anything else."""
    match = _RATE.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a rate like '30/hour' (per second, minute, hour or day)")
    return int(match.group(1)), _UNITS[match.group(2)]


def check_policy_config(config) -> None:
    """Refuse start-up on malformed AMOUNT_CAPS or TASK_RATE_LIMITS, naming the key."""
    caps = amount_caps(config)
    if not isinstance(caps, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in caps.values()):
        raise ValueError(f"AMOUNT_CAPS must map roles to amounts in cents (>= 0), e.g. {DEFAULT_AMOUNT_CAPS}")
    limits = config.get("TASK_RATE_LIMITS") or {}
    if not isinstance(limits, dict):
        raise ValueError('TASK_RATE_LIMITS must map task names to rates, e.g. {"refund_order": "30/hour"}')
    for name, rate in limits.items():
        try:
            parse_rate(rate)
        except ValueError as exc:
            raise ValueError(f"TASK_RATE_LIMITS[{name!r}]: {exc}") from None


def rate_limit_exceeded(spec: TaskSpec, actor_email: str) -> str | None:
    """A message when the actor has used up the task's rate limit, else None (before any work)."""
    rate = _rate_of(spec)
    return _over_limit(console_session(), spec, actor_email, rate, allowed_extra=0) if rate else None


def rate_limit_overrun(session, spec: TaskSpec, actor_email: str) -> str | None:
    """The exact check, in the transaction that has just written the new run: a message when it is one too many.

    The actor's staff row is locked first, so that the actor's racing runs count one after the other;
    each then sees the others' committed rows and its own.
    """
    rate = _rate_of(spec)
    if not rate:
        return None
    from console.auth.models import StaffUser

    session.execute(select(StaffUser.id).where(StaffUser.email == actor_email).with_for_update())
    return _over_limit(session, spec, actor_email, rate, allowed_extra=1)


def _rate_of(spec: TaskSpec) -> str | None:
    return (current_app.config.get("TASK_RATE_LIMITS") or {}).get(spec.name)


def _over_limit(session, spec: TaskSpec, actor_email: str, rate: str, *, allowed_extra: int) -> str | None:
    from console.tasks.models import TaskRun

    count, seconds = parse_rate(rate)
    since = utcnow() - timedelta(seconds=seconds)
    used = session.scalar(
        select(func.count()).select_from(TaskRun)
        .where(TaskRun.actor == actor_email, TaskRun.task == spec.name, TaskRun.created_at >= since))
    if used >= count + allowed_extra:
        return f"{spec.name} may be run at most {rate} per person; try again later"
    return None
