"""The runner: the one path that the web UI, the API and the CLI take to preview and run tasks.

Order of checks, the same for every caller: resolve + permission (404/403)
-> ticket + reason + parameters (400) -> idempotency (replay, or 409) -> rate limit (429,
before any work) -> preview in a rolled-back transaction (422 and a `refused` run on a
Refusal) -> policy (approval?) -> execute (console.tasks.execution).
Every function uses `current_app` and the request-scoped sessions; each raises TaskError for
every outcome that is not a success.
"""
from __future__ import annotations

from sqlalchemy import select

from console.db import console_session, target_session, utcnow
from console.tasks import execution, idempotency
from console.tasks.approvals import (approve_run, expire_stale_approvals, pending_approvals, reject_run,
                                     requester_fields)
from console.tasks.checks import (CheckedRequest, RunRequest, TaskError, check_request, clean_idempotency_key,
                                  clean_reason, database_guard, get_run)
from console.tasks.diff import describe, fingerprint
from console.tasks.execution import (ApprovalNowNeeded, Preview, Rehearsal, TaskFailure, execute, first_write, rehearse,
                                     separate_transactions, settle, write_run)
from console.tasks.models import TaskRun
from console.tasks.policy import Decision, decide, rate_limit_exceeded
from console.tasks.reconcile import find_interrupted_runs, reconcile_run
from console.tasks.registry import may_run
from console.tasks.rows import new_run_object
from console.tasks.spec import Refusal
from console.webhooks.outbox import notify
from console.tasks.undo import preview_undo, undo_run, undo_status

__all__ = [
    "Preview", "RunRequest", "TaskError", "approve_run", "clean_reason", "expire_stale_approvals",
    "find_interrupted_runs", "get_run", "may_run", "pending_approvals", "preview", "preview_undo", "reconcile_run",
    "reject_run", "run_history", "run_to_dict", "start_run", "undo_run", "undo_status",
]


def _make_preview(checked: CheckedRequest, rehearsal: Rehearsal, decision: Decision, now) -> Preview:
    return Preview(
        task=checked.spec.name, title=checked.spec.title, params=checked.params, changes=rehearsal.changes,
        effects=rehearsal.effect_lines, summary=describe(checked.spec.title, rehearsal.changes,
                                                          rehearsal.effect_lines, rehearsal.result),
        risk=decision.risk, needs_approval=decision.needs_approval,
        preview_hash=fingerprint(rehearsal.changes, rehearsal.effects, now),
        approval_reasons=decision.reasons, result=rehearsal.result)


@database_guard
def preview(req: RunRequest) -> Preview:
    """Check the request and show what it would change; writes nothing to the target (422 on a refusal).

    A refusal is a request that cannot apply: it is recorded as a `refused` run, as `start_run`
    records one, whichever face asked. With an idempotency key, a repeated refused preview (a page
    reloaded) replays that run instead of recording another.
    """
    checked = check_request(req)
    now = utcnow()
    try:
        rehearsal = rehearse(checked.spec, checked.params, actor=req.actor.email, ticket=checked.ticket,
                             reason=checked.reason, now=now)
    except Refusal as exc:
        _record_refusal(req, checked, exc.message)
    except TaskFailure as exc:
        raise TaskError(422, "failed", str(exc)) from None
    return _make_preview(checked, rehearsal, decide(checked.spec, checked.params, checked.risk, req.actor), now)


def _record_refusal(req: RunRequest, checked: CheckedRequest, message: str):
    """Record a refused preview as a run and raise its 422 (or replay the refusal already recorded)."""
    key = clean_idempotency_key(req.idempotency_key)
    claim = None
    if key is not None:
        found = idempotency.claim(req.actor.email, key, idempotency.request_hash(checked))
        if isinstance(found, TaskRun):
            idempotency.replay(found)  # raises the first answer's 422 (or 409 while it runs)
            raise TaskError(409, "conflict", f"this Idempotency-Key already made run {found.id} ({found.status})",
                            run=found)
        claim = found
    run = new_run(req, checked, key)
    try:
        settle(run, "refused", error=message, details={"params": run.params_json, "stage": "preview"},
               before_commit=first_write(claim, run, checked, req.actor, None))
    except TaskError as exc:
        if claim is not None and exc.run is None:
            idempotency.release(claim)
        raise


def new_run(req: RunRequest, checked: CheckedRequest, key: str | None) -> TaskRun:
    return new_run_object(task=checked.spec.name, ticket=checked.ticket, reason=checked.reason, actor=req.actor.email,
                   params=checked.params_json, risk=checked.risk, source=req.source,
                   idempotency_key=key, created_at=utcnow(), customer=checked.customer, order_id=checked.order_id,
                   amount_cents=checked.amount_cents, address_set=checked.address_set, bulk_id=req.bulk_id,
                   record=checked.record, record_key=checked.record_key,
                   **requester_fields(req.actor))


@database_guard
def start_run(req: RunRequest) -> TaskRun:
    """Run a task (-> succeeded) or ask for its approval (-> pending_approval); TaskError otherwise."""
    checked = check_request(req)
    key = clean_idempotency_key(req.idempotency_key)
    claim = None
    if key is not None:
        found = idempotency.claim(req.actor.email, key, idempotency.request_hash(checked))
        if isinstance(found, TaskRun):
            return idempotency.replay(found)
        claim = found
    try:
        limited = rate_limit_exceeded(checked.spec, req.actor.email)
        if limited:
            raise TaskError(429, "rate_limited", limited)
        decision = decide(checked.spec, checked.params, checked.risk, req.actor)
        try:
            return _run_or_ask(req, checked, key, claim, decision)
        except ApprovalNowNeeded as exc:
            # A run committed meanwhile (the same person's, past a cap; or one that set this address) makes
            # this one wait for approval after all; nothing of the first attempt was kept, in either database.
            return _run_or_ask(req, checked, key, claim, exc.decision)
    except TaskError as exc:
        if claim is not None and exc.run is None:
            idempotency.release(claim)
        raise


def _run_or_ask(req: RunRequest, checked: CheckedRequest, key: str | None, claim, decision: Decision) -> TaskRun:
    spec = checked.spec
    if decision.needs_approval and checked.secret:
        raise TaskError(422, "refused", f"this run of {spec.name} needs approval, and a run with a secret "
                                        "parameter cannot wait for one: secrets are never stored")
    now = utcnow()
    run = new_run(req, checked, key)
    # A run that needs no approval is made once, for real, and held uncommitted until its intent
    # is audited; one that does is rehearsed and rolled back, as approval must come first.
    in_one_pass = not decision.needs_approval and separate_transactions()
    try:
        if in_one_pass:
            rehearsal = execution.apply(checked.spec, checked.params, actor=req.actor.email,
                                        ticket=checked.ticket, reason=checked.reason, now=now, commit=False)
        else:
            rehearsal = rehearse(checked.spec, checked.params, actor=req.actor.email, ticket=checked.ticket,
                                 reason=checked.reason, now=now)
    except (Refusal, TaskFailure) as exc:
        status = "refused" if isinstance(exc, Refusal) else "failed"
        # settle raises the 422 that carries the recorded run
        return settle(run, status, error=exc.message if isinstance(exc, Refusal) else str(exc),
                      details={"params": run.params_json, "stage": "preview"},
                      before_commit=first_write(claim, run, checked, req.actor, None))
    if req.expected_preview_hash and req.expected_preview_hash != fingerprint(rehearsal.changes, rehearsal.effects,
                                                                              now):
        target_session().rollback()
        raise TaskError(409, "conflict", "the data changed since your preview; preview again")
    run.customer = run.customer or rehearsal.customer
    run.order_id = run.order_id if run.order_id is not None else rehearsal.order_id
    if decision.needs_approval:
        return _ask_approval(run, claim, checked, rehearsal, decision, now, req.actor)
    return execute(run, spec, checked.params, now=now, expected=rehearsal,
                   on_intent=first_write(claim, run, checked, req.actor, decision),
                   prepared=rehearsal if in_one_pass else None)


def _ask_approval(run: TaskRun, claim, checked: CheckedRequest, rehearsal: Rehearsal, decision: Decision,
                  now, actor) -> TaskRun:
    run.status = "pending_approval"
    run.changes, run.effects = rehearsal.stored_json()
    run.preview_hash = fingerprint(rehearsal.changes, rehearsal.effects, now)
    run.approval_reasons = "; ".join(decision.reasons)
    run.result = describe(checked.spec.title, rehearsal.changes, rehearsal.effect_lines, rehearsal.result)
    counted = first_write(claim, run, checked, actor, decision)

    def first_write_and_tell(session):
        counted(session)
        # Chat is no place for customer details: the change is named by table and key, without the
        # task's own result text or the emails it would send (both may hold addresses).
        notify(session, "approval.requested",
               "Run {run} ({task}) by {actor} on ticket {ticket} awaits approval: {reasons}. {change}",
               run=run.id, task=checked.spec.title, actor=run.actor, ticket=run.ticket, reasons=run.approval_reasons,
               change=describe(checked.spec.title, rehearsal.changes, [], ""))

    write_run(run, action="task.request_approval", before_commit=first_write_and_tell, details={
        "params": run.params_json, "changes": run.changes, "effects": run.effects,
        "preview_hash": run.preview_hash, "approval_reasons": decision.reasons})
    return run


@database_guard
def run_history(*, ticket: str | None = None, customer: str | None = None, task: str | None = None,
                order_id: int | None = None, actor: str | None = None, status: str | None = None,
                record: str | None = None, record_key: str | None = None,
                before: int | None = None, limit: int = 50) -> list[TaskRun]:
    """Newest runs first, filtered by any of ticket, customer email, task, order, actor, status and the record
    a run was on (and its key), older than run `before` when given. Runs record their customer's email in lower
    case, and a record key as its task takes it (an email lower-cased)."""
    query = select(TaskRun)
    customer = customer.lower() if customer is not None else None
    for column, value in ((TaskRun.ticket, ticket), (TaskRun.customer, customer), (TaskRun.task, task),
                          (TaskRun.order_id, order_id), (TaskRun.actor, actor), (TaskRun.status, status),
                          (TaskRun.record, record), (TaskRun.record_key, record_key)):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(TaskRun.id < before)
    return list(console_session().scalars(query.order_by(TaskRun.id.desc()).limit(max(1, min(limit, 500)))))


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def run_to_dict(run: TaskRun) -> dict:
    """A run as the API answers it (the `Run` schema of the OpenAPI document), plus what the run pages need."""
    return {
        "id": run.id, "task": run.task, "status": run.status, "ticket": run.ticket, "reason": run.reason,
        "actor": run.actor, "params": run.params_data, "changes": run.changes_data, "result": run.result or "",
        "error": run.error or "", "created_at": _iso(run.created_at), "approved_by": run.approved_by,
        "risk": run.risk, "source": run.source, "effects": run.effects_data, "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at), "approved_at": _iso(run.approved_at),
        "decision_reason": run.decision_reason or "", "approval_reasons": run.approval_reasons or "",
        "preview_hash": run.preview_hash or "", "undo_of": run.undo_of, "undone_by": run.undone_by,
        "customer": run.customer or "", "order_id": run.order_id, "bulk_id": run.bulk_id,
        "record": run.record, "record_key": run.record_key,
    }
