"""Four-eyes approval: a second person approves (and so executes) or rejects a pending run.

The approver must hold APPROVE_RUNS and must not be the requester (403 whatever the role).
People are compared by staff row, never by email: the requester is the run's actor and also
whoever issued the API token it was requested with, and the decider is the caller and also
whoever issued the token they call with (`four_eyes_refusal`, the one rule for the web, the API
and the CLI). A run whose requester no staff row matches cannot be approved, only rejected.
Only a `pending_approval` run can be decided (409); the decision is a conditional UPDATE,
so two approvers racing cannot both win. A run left undecided for APPROVAL_TTL_HOURS is
rejected with "approval expired". At execution the change is recomputed under row locks;
if it no longer hashes to the approved preview, or the task now refuses, nothing is written
and the run is refused, saying which record changed since it was approved.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from console.audit.chain import append
from console.auth import token_issuer_id
from console.auth.models import StaffUser
from console.permissions import APPROVE_RUNS, role_refusal, user_can
from console.db import console_session, utcnow
from console.tasks.checks import TaskError, clean_reason, database_guard, get_run
from console.tasks.disclosure import masked_text
from console.tasks.execution import audit_fields, execute, run_people, settle
from console.tasks.models import TaskRun
from console.tasks.params import ParamErrors, coerce_params
from console.tasks.presenting import task_title
from console.tasks.registry import task_registry
from console.webhooks.outbox import notify


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config.get("APPROVAL_TTL_HOURS", 24))


def _claim(run: TaskRun, status: str, decider: str | None, reason: str, now) -> None:
    """Move the run out of pending_approval, or 409 when someone else already did."""
    session = console_session()
    moved = session.execute(
        update(TaskRun).where(TaskRun.id == run.id, TaskRun.status == "pending_approval")
        .values(status=status, approved_by=decider, approved_at=now if decider else None, decision_reason=reason)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.rollback()
        session.refresh(run)
        raise TaskError(409, "conflict", f"run {run.id} is {run.status}, not pending approval")
    run.status, run.approved_by, run.decision_reason = status, decider, reason
    run.approved_at = now if decider else None


def _expire(run: TaskRun) -> bool:
    """Reject the run as expired if it waited longer than APPROVAL_TTL_HOURS; True when it did."""
    if run.status != "pending_approval" or run.created_at > utcnow() - _ttl():
        return False
    try:
        _claim(run, "rejected", None, "", utcnow())
    except TaskError:
        return False  # decided meanwhile
    settle(run, "rejected", error="approval expired", action="run.expire", actor="system",
           reason="not approved within the time limit", raise_failure=False,
           before_commit=lambda session: notify(
               session, "approval.expired", "Run {run} ({task}) by {actor} on ticket {ticket} expired without "
               "approval.", run=run.id, task=task_title(run.task), actor=run.actor, ticket=run.ticket))
    return True


def requester_fields(actor) -> dict:
    """The TaskRun columns naming who requests a run: the actor's staff row and their token's issuer."""
    return {"actor_id": actor.id, "token_issuer_id": token_issuer_id()}


def _requester_id(run: TaskRun) -> int | None:
    """The requester's staff id; for a run from before ids were kept, the staff row that has its email now."""
    if run.actor_id is not None:
        return run.actor_id
    return console_session().scalar(select(StaffUser.id).where(StaffUser.email == run.actor))


def four_eyes_refusal(run: TaskRun, person, verb: str = "approve") -> str | None:
    """Why `person`, calling with this request's token if any, may not `verb` the run; None when they may."""
    requester = _requester_id(run)
    if requester is None:
        if verb == "reject":
            return None  # rejecting runs nothing: it is the safe way out
        return (f"run {run.id} was requested by {run.actor}, whom no staff user matches now, so it cannot be "
                "approved; reject it and request it again")
    requested_by = {requester, run.token_issuer_id} - {None}
    if person.id == requester:
        return f"you cannot {verb} your own run; another lead or admin must"
    if person.id in requested_by:
        return (f"run {run.id} was requested with an API token you issued, so it counts as your own; "
                f"another lead or admin must {verb} it")
    if token_issuer_id() in requested_by:
        return (f"the API token you are using was issued by whoever requested run {run.id} or issued its "
                f"token; another lead or admin must {verb} it")
    return None


def is_own_run(run: TaskRun, person) -> bool:
    """Whether `person` requested the run, or issued the token it was requested with."""
    return person.id in {_requester_id(run), run.token_issuer_id} - {None}


def _decider_checks(run_id, approver, reason, verb: str) -> tuple[TaskRun, str]:
    run = get_run(run_id)
    if approver is None:
        raise TaskError(403, "forbidden", "sign in to decide runs")
    refusal = four_eyes_refusal(run, approver, verb)
    if refusal:
        raise TaskError(403, "forbidden", refusal)
    if not user_can(approver, APPROVE_RUNS):
        raise TaskError(403, "forbidden", role_refusal(approver.role, f"{verb} runs"))
    try:
        reason = clean_reason(reason)
    except ValueError as exc:
        raise TaskError(400, "invalid", str(exc), {"reason": str(exc)}) from None
    if run.status != "pending_approval":
        raise TaskError(409, "conflict", f"run {run.id} is {run.status}, not pending approval")
    if _expire(run):
        raise TaskError(409, "conflict", f"run {run.id} cannot be {verb}d: approval expired", run=run)
    return run, reason


@database_guard
def approve_run(run_id, approver, reason) -> TaskRun:
    """Approve a pending run and execute it; TaskError when it cannot be approved or does not succeed."""
    run, reason = _decider_checks(run_id, approver, reason, "approve")
    spec = task_registry().get(run.task)
    if spec is None:
        raise TaskError(409, "conflict", f"task {run.task} is no longer available (unknown or disabled); "
                                         "reject the run instead")
    try:
        params = coerce_params(spec, run.params_data)
    except ParamErrors as exc:
        raise TaskError(409, "conflict", f"task {run.task} changed its parameters since the request ({exc}); "
                                         "reject the run and ask again") from None
    now = utcnow()
    _claim(run, "interrupted", approver.email, reason, now)
    try:
        append(console_session(), actor=approver.email, action="run.approve", reason=reason, outcome="approved",
               details={"preview_hash": run.preview_hash, **run_people(run)}, **audit_fields(run))
    except SQLAlchemyError as exc:  # fail closed: no audited approval, no execution (the claim rolls back too)
        console_session().rollback()
        raise TaskError(503, "audit_unavailable", f"the audit trail could not be written ({exc.__class__.__name__}); "
                                                  f"run {run.id} was not approved and nothing was run") from exc

    def tell(session, status):
        why = "." if status == "succeeded" else "; the run page says why."  # the why may name the customer
        notify(session, "approval.decided", "Run {run} ({task}) by {actor} was approved by {approver} and {status}"
               + why, run=run.id, task=task_title(run.task), actor=run.actor, approver=approver.email, status=status)

    # The run is still the requester's: its intent and outcome name them as actor, and the approver beside them.
    return execute(run, spec, params, now=now, expected=None, expected_hash=run.preview_hash,
                   refusal_prefix="changed since approval: ", before_settle=tell)


@database_guard
def reject_run(run_id, approver, reason) -> TaskRun:
    """Reject a pending run with a reason; nothing of it ever runs."""
    run, reason = _decider_checks(run_id, approver, reason, "reject")
    _claim(run, "rejected", approver.email, reason, utcnow())
    # The reason stays out of chat, like an escalation's note: it may name the customer.
    settle(run, "rejected", error=f"rejected by {approver.email}: {reason}", action="run.reject",
           actor=approver.email, reason=reason, raise_failure=False,
           before_commit=lambda session: notify(
               session, "approval.rejected", "Run {run} ({task}) by {actor} was rejected by {approver}; "
               "the run page says why.", run=run.id, task=task_title(run.task), actor=run.actor,
               approver=approver.email))
    return run


@database_guard
def expire_stale_approvals() -> int:
    """Reject every run that waited longer than APPROVAL_TTL_HOURS; return how many."""
    cutoff = utcnow() - _ttl()
    stale = console_session().scalars(select(TaskRun).where(TaskRun.status == "pending_approval",
                                                            TaskRun.created_at <= cutoff)).all()
    return sum(1 for run in stale if _expire(run))


@database_guard
def pending_approvals(limit: int = 200) -> list[TaskRun]:
    """The approval queue, oldest first, with expired runs rejected first."""
    expire_stale_approvals()
    return list(console_session().scalars(select(TaskRun).where(TaskRun.status == "pending_approval")
                                          .order_by(TaskRun.created_at, TaskRun.id).limit(limit)))


NOTICE_DAYS = 7


@database_guard
def decisions_for(person, *, days: int = NOTICE_DAYS, limit: int = 5) -> list[TaskRun]:
    """The requester's runs a lead approved or rejected, or that expired undecided, in the last `days`, newest first.

    What the requester's home page tells them (the approval.* webhook events tell the team's chat).
    """
    since = utcnow() - timedelta(days=days)
    decided = or_(TaskRun.approved_at >= since,  # approved or rejected by a person
                  and_(TaskRun.status == "rejected", TaskRun.approved_by.is_(None), TaskRun.finished_at >= since))
    runs = console_session().scalars(select(TaskRun).where(TaskRun.actor == person.email, decided)
                                     .order_by(TaskRun.id.desc()).limit(limit))
    return list(runs)


def decision_notices(person) -> dict:
    """The home page's notices of decisions on the person's own runs; a lead's reason masked as on run pages."""
    runs = decisions_for(person)
    reasons = {run.id: masked_text(run.decision_reason or "") for run in runs}
    return {"runs": runs, "days": NOTICE_DAYS, "reasons": reasons}
