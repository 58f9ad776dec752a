"""Policy: a run's risk, whether it needs approval, and per-task rate limits.

- Risk comes from the task: a fixed level, or a function of the typed parameters.
- `AMOUNT_CAPS` (role -> minor units of the task's currency, cents; default {"agent": 10000}, EUR 100.00 for a
  task in euros; refusals and reasons say them in units). Caps are cumulative: the amounts that
  one person moves on one record (the order a run concerns, else its customer) within 24 hours
  count together against their role's cap, those still waiting for approval and those in flight
  included. A run that would take the total above the cap needs approval, whatever its risk.
- Account takeover needs two people: a task that mails a link to an account's address (declared
  `sends_to_address`) needs approval when a task that sets addresses (`sets_address`) set that
  address within 24 hours.
- `TASK_RATE_LIMITS` (task -> "N/second|minute|hour|day"), per person.

Runs are counted in the console database, so every process shares the counts, and per person
(`runs_of`). They are counted twice: before the preview, so that a limited request does no work,
and again once the new run's row is written (`recount`), under a lock on the person's staff row,
so that requests racing at the edge of a limit or a cap cannot all pass (on SQLite the write lock
that the transaction began with does the same).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from console.auth.models import ROLES, StaffUser
from console.db import console_session, utcnow
from console.formatting import table_noun
from console.permissions import role_title
from console.tasks.models import TaskRun
from console.tasks.spec import RISKS, TaskSpec, record_of, subject_from_params

log = logging.getLogger(__name__)
DEFAULT_AMOUNT_CAPS = {"agent": 10000}
WINDOW = timedelta(hours=24)
# The runs whose amounts count against a cap: moved, waiting for approval, or in flight.
MOVING = ("succeeded", "pending_approval", "interrupted")
# The runs that set an address: done, or in flight (their change may already be committed).
SETTING = ("succeeded", "interrupted")
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


def runs_of(actor_email: str):
    """The runs of one person: the one place that says how a run names the person who asked for it."""
    return TaskRun.actor == actor_email


def is_run_of(run_actor: str, actor_email: str) -> bool:
    """`runs_of` for a run whose actor was already read."""
    return run_actor == actor_email


def amount_of(spec: TaskSpec, params: dict) -> int | None:
    """The cents a run moves (its Money parameters, summed), or None for a task that moves no money."""
    amounts = [params[p.name] for p in spec.params if p.kind == "money" and params.get(p.name) is not None]
    return sum(amounts) if amounts else None


def run_facts(spec: TaskSpec, params: dict) -> dict:
    """What a new run stores for the policy to count later: the amount it moves and the address it sets."""
    return {"amount_cents": amount_of(spec, params),
            "address_set": params.get(spec.sets_address) if spec.sets_address else None}


def decide(spec: TaskSpec, params: dict, risk: str, actor, *, session=None, run_id: int | None = None,
           moved: tuple[int, str] | None = None) -> Decision:
    """Does this run of `actor` (a staff user) need a second person's approval, and why.

    `run_id`: the run's own row, once written, which must not count against itself. `moved`: what
    `_moved_earlier` would answer, when `decide_many` has already read it.
    """
    session = session if session is not None else console_session()
    reasons = []
    if risk == "high":
        reasons.append(f"\"{spec.title}\" is high risk with these parameters")
    reasons += _cap_reasons(session, spec, params, actor, run_id, moved)
    reasons += _takeover_reasons(session, spec, params)
    return Decision(risk=risk, needs_approval=bool(reasons), reasons=reasons)


def decide_many(spec: TaskSpec, items: list[tuple[dict, str]], actor, *, session=None,
                run_ids: list[int] | None = None) -> list[Decision]:
    """`decide` for many runs (parameters, risk) of one person and task, as a batch decides them: the amounts
    moved earlier on their records are read in one query per kind of record, not one per run. `run_ids`:
    the runs' own rows, once written, each left out of its own count."""
    session = session if session is not None else console_session()
    moved = _moved_earlier_many(session, spec, [params for params, _ in items], actor, run_ids)
    return [decide(spec, params, risk, actor, session=session, run_id=None if run_ids is None else run_ids[i],
                   moved=moved[i]) for i, (params, risk) in enumerate(items)]


def _cap_reasons(session, spec: TaskSpec, params: dict, actor, run_id: int | None,
                 moved: tuple[int, str] | None = None) -> list[str]:
    cap, amount = amount_caps().get(actor.role), amount_of(spec, params)
    if cap is None or amount is None:
        return []
    # Caps count minor units; people read them in the task's currency.
    money = spec.amount_text
    over = [f"{p.label} ({money(params[p.name])}) is above the {role_title(actor.role)} limit of {money(cap)}"
            for p in spec.params if p.kind == "money" and params.get(p.name) is not None and params[p.name] > cap]
    if over:
        return over
    earlier, record = moved if moved is not None else _moved_earlier(session, spec, params, actor.email, run_id)
    if amount + earlier <= cap:
        return []
    return [f"with the {money(earlier)} you moved on {record} in the last 24 hours (approved or waiting), "
            f"{money(amount)} more make {money(amount + earlier)}, above the {role_title(actor.role)} limit of {money(cap)}"]


def _record_of(spec: TaskSpec, params: dict) -> tuple[str, object, str] | None:
    """The record a run's amount counts on (the column of task_runs, its value, its name), or None: the order or
    the customer its parameters name, else the record its task is offered on (any product's: an invoice)."""
    customer, order_id = subject_from_params(spec, params)
    if order_id is not None:
        return "order_id", order_id, f"order {order_id}"
    if customer:
        return "customer", customer, "this customer"
    record, key = record_of(spec, params)
    if record is not None:
        return "record_key", key, f"{table_noun(record).lower()} {key}"
    return None


def _moving_runs(session, kind: str, values, actor_email: str, spec: TaskSpec) -> dict[object, list[tuple[int, int]]]:
    """This person's runs that count against a cap now, on these records: record value -> [(run id, cents)]."""
    column = getattr(TaskRun, kind)
    # A record's key counts on that record only (an invoice 7 is not a subscription 7).
    on = (TaskRun.record == spec.offered_on,) if kind == "record_key" else ()
    found: dict[object, list[tuple[int, int]]] = {}
    # Only the records and the window in SQL, the person and the status checked here: given them too, a
    # planner without statistics on task_runs (a new console, autovacuum off) picks the index of the person's
    # or the status's runs and reads every run of theirs in the window, 100 times the rows of a bulk chunk's
    # records (200 ms a chunk at 30,000 runs, against 2 ms by the records' index).
    for run_id, value, amount, run_actor, status in session.execute(
            select(TaskRun.id, column, TaskRun.amount_cents, TaskRun.actor, TaskRun.status)
            .where(column.in_(values), *on, TaskRun.created_at >= utcnow() - WINDOW)):
        if is_run_of(run_actor, actor_email) and status in MOVING:
            found.setdefault(value, []).append((run_id, amount or 0))
    return found


def _moved_earlier(session, spec: TaskSpec, params: dict, actor_email: str, run_id: int | None) -> tuple[int, str]:
    """The cents this person moved on the run's record within the window (the run itself left out), and the
    record's name."""
    record = _record_of(spec, params)
    if record is None:
        return 0, ""
    kind, value, name = record
    runs = _moving_runs(session, kind, [value], actor_email, spec).get(value, ())
    return sum(amount for found, amount in runs if found != run_id), name


def _moved_earlier_many(session, spec: TaskSpec, params_list: list[dict], actor,
                        run_ids: list[int] | None) -> list[tuple[int, str] | None]:
    """`_moved_earlier` of each run (None where no cap applies): the counting runs on all their records read
    at once, and each run's own row left out of its sum, as `_moved_earlier`'s `run_id` leaves it out."""
    if amount_caps().get(actor.role) is None or all(amount_of(spec, params) is None for params in params_list):
        return [None] * len(params_list)
    records = [_record_of(spec, params) for params in params_list]
    counted: dict[tuple[str, object], list[tuple[int, int]]] = {}
    for kind in ("order_id", "customer", "record_key"):
        values = {record[1] for record in records if record is not None and record[0] == kind}
        if values:
            for value, runs in _moving_runs(session, kind, values, actor.email, spec).items():
                counted[(kind, value)] = runs
    moved = []
    for position, record in enumerate(records):
        if record is None:
            moved.append((0, ""))
            continue
        own = None if run_ids is None else run_ids[position]
        moved.append((sum(amount for run_id, amount in counted.get(record[:2], ()) if run_id != own), record[2]))
    return moved


def _takeover_reasons(session, spec: TaskSpec, params: dict) -> list[str]:
    address = params.get(spec.sends_to_address) if spec.sends_to_address else None
    if not address:
        return []
    setter = session.scalar(select(TaskRun.id).where(TaskRun.address_set == address, TaskRun.status.in_(SETTING),
                                                     TaskRun.started_at >= utcnow() - WINDOW)
                            .order_by(TaskRun.id.desc()).limit(1))
    if setter is None:
        return []
    return [f"the address was changed by run {setter} within 24 hours; a lead must approve"]


def parse_rate(text: str) -> tuple[int, int]:
    """'30/hour' -> (30, 3600); ValueError on anything else."""
    match = _RATE.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a rate like '30/hour' (per second, minute, hour or day)")
    return int(match.group(1)), _UNITS[match.group(2)]


def check_policy_config(config) -> None:
    """Refuse start-up on malformed AMOUNT_CAPS or TASK_RATE_LIMITS, naming the key (ValueError)."""
    caps = amount_caps(config)
    if not isinstance(caps, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in caps.values()):
        raise ValueError(f"AMOUNT_CAPS must map roles to amounts in cents (>= 0), e.g. {DEFAULT_AMOUNT_CAPS}")
    unknown = sorted(str(role) for role in caps if role not in ROLES)
    if unknown:
        raise ValueError(f"AMOUNT_CAPS: no role {unknown[0]!r}; the roles are {', '.join(ROLES)}")
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
    rate = rate_of(spec)
    return _over_limit(console_session(), spec, actor_email, rate, allowed_extra=0) if rate else None


def recount(session, spec: TaskSpec, params: dict, actor, *, run_id: int,
            decided: Decision | None) -> tuple[str | None, Decision | None]:
    """The exact counts, in the transaction that has just written run `run_id`.

    Returns (a message when the run is one too many for the rate limit, the new decision when the
    run now needs an approval that `decided` did not ask for). The person's staff row is locked
    first, so that their racing runs count one after the other; each then sees the others'
    committed rows and its own. With nothing to count, nothing is locked.
    """
    rate = rate_of(spec)
    recheck = _rechecked(spec, params, actor, decided)
    if not rate and not recheck:  # counts_again's rule, its two parts kept for below
        return None, None
    _lock_person(session, actor)
    if rate:
        limited = _over_limit(session, spec, actor.email, rate, allowed_extra=1)
        if limited:
            return limited, None
    if recheck:
        again = decide(spec, params, decided.risk, actor, session=session, run_id=run_id)
        if again.needs_approval:
            return None, again
    return None, None


def counts_again(spec: TaskSpec, params: dict, actor, decided: Decision | None) -> bool:
    """Whether `recount` has anything to count (and so reads the run's row, which must be written first)."""
    return bool(rate_of(spec)) or _rechecked(spec, params, actor, decided)


def recount_many(session, spec: TaskSpec, items: list[tuple[dict, Decision]], actor, *,
                 run_ids: list[int]) -> list[Decision | None]:
    """`recount` for many written runs of one person and of a task without a rate limit (a batch leaves those
    to the runner): one lock of the person, one read of the counts. Each run's new decision when it now
    needs an approval, else None."""
    if rate_of(spec):
        raise ValueError(f"{spec.name} has a rate limit: its runs are counted one by one (recount)")
    rechecked = [position for position, (params, decided) in enumerate(items)
                 if _rechecked(spec, params, actor, decided)]
    needed: list[Decision | None] = [None] * len(items)
    if not rechecked:
        return needed
    _lock_person(session, actor)
    again = decide_many(spec, [(items[position][0], items[position][1].risk) for position in rechecked], actor,
                        session=session, run_ids=[run_ids[position] for position in rechecked])
    for position, decision in zip(rechecked, again):
        if decision.needs_approval:
            needed[position] = decision
    return needed


def _rechecked(spec: TaskSpec, params: dict, actor, decided: Decision | None) -> bool:
    """Whether a run that did not need approval must be decided again once written (a cap, or a takeover)."""
    return decided is not None and not decided.needs_approval and bool(
        spec.sends_to_address or (amount_of(spec, params) is not None and actor.role in amount_caps()))


def _lock_person(session, actor) -> None:
    # FOR NO KEY UPDATE on PostgreSQL: it serialises this person's runs as FOR UPDATE would, but does not
    # wait for the KEY SHARE lock that each racing run's INSERT (task_runs.actor_id) holds on the same
    # row, which deadlocked two runs that had both inserted before locking.
    session.execute(select(StaffUser.id).where(StaffUser.email == actor.email).with_for_update(key_share=True))


def rate_of(spec: TaskSpec) -> str | None:
    return (current_app.config.get("TASK_RATE_LIMITS") or {}).get(spec.name)


def _over_limit(session, spec: TaskSpec, actor_email: str, rate: str, *, allowed_extra: int) -> str | None:
    count, seconds = parse_rate(rate)
    since = utcnow() - timedelta(seconds=seconds)
    used = session.scalar(
        select(func.count()).select_from(TaskRun)
        .where(runs_of(actor_email), TaskRun.task == spec.name, TaskRun.created_at >= since))
    if used >= count + allowed_extra:
        return f"{spec.name} may be run at most {rate} per person; try again later"
    return None
