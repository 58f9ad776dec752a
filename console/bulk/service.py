"""Bulks: request (checked whole, written in one commit with its audit entry), approve, reject, pause, resume,
cancel, read.

A bulk that needs no approval is `queued` at once; one that does waits in `pending_approval` until
another lead or admin approves it (four-eyes: the one rule of single runs). The approval is bound
to the items' hash: it is recomputed from the stored items when approving and when a worker starts,
and a bulk whose items no longer hash to what was approved does not run. Deciding or cancelling a
bulk in a state that does not allow it is a 409; the change of state is a conditional UPDATE, so two
people racing cannot both win. A bulk left undecided longer than APPROVAL_TTL_HOURS expires as a single
run's approval does: it is `rejected` with the reason "approval expired" and no decider, settled by whoever
reads it first (its page, the API, the list of bulks waiting).
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, select, update

from console.audit.chain import AuditUnavailable, record_event
from console.auth import token_issuer_id
from console.jsontext import canonical_json
from console.permissions import APPROVE_RUNS, role_refusal, user_can
from console.bulk.csvinput import name_rows, parse_csv
from console.bulk.models import WORKABLE, Bulk, BulkItem
from console.bulk.planning import Plan, check_items, stored_items_hash
from console.bulk.queue import dispatch, ensure_queue_available
from console.bulk.working import finish_if_done
from console.db import begin_writing, console_session, utcnow
from console.formatting import Personal
from console.tasks.approvals import four_eyes_refusal
from console.tasks.checks import TaskError, clean_reason, database_guard, resolve
from console.tasks.params import MAX_INT
from console.tasks.presenting import shown_params
from console.tasks.registry import task_registry

DONE_COUNTS = ("succeeded", "refused", "failed")
EXPIRED = "approval expired"


def _audit(bulk: Bulk, *, actor: str, action: str, reason: str, details: dict | None = None) -> None:
    """One audit entry about the bulk, committing the session's changes with it (503 when it cannot)."""
    try:
        record_event(console_session(), actor=actor, action=action, reason=reason, outcome=bulk.status,
                     subject_type="bulk", subject_id=bulk.id, ticket=bulk.ticket, task=bulk.task,
                     details=details or {})
    except AuditUnavailable as exc:
        raise TaskError(503, "audit_unavailable", f"{exc}; nothing was changed") from exc


@database_guard
def request_bulk(task: str, items, ticket, reason, actor, source: str = "api") -> Bulk:
    """Check every item (400 naming each bad one), then write the bulk and its items; queue it unless it
    needs approval. With a queue configured and unreachable: a 503, and nothing is written."""
    plan = check_items(task, items, ticket, reason, actor, source)
    ensure_queue_available()
    bulk = _write(plan, actor, source)
    if bulk.status == "queued":
        dispatch(bulk.id)
    return bulk


@database_guard
def request_bulk_csv(task: str, data: bytes | str, ticket, reason, actor, source: str = "api") -> Bulk:
    """A bulk from a CSV (console.bulk.csvinput): the same checks, each bad item named by its row and column."""
    items = parse_csv(data, resolve(task, actor))
    try:
        return request_bulk(task, items, ticket, reason, actor, source)
    except TaskError as exc:
        raise name_rows(exc) if exc.status == 400 else exc


def plan_csv(task: str, data: bytes | str, ticket, reason, actor, source: str = "api") -> Plan:
    """The checked plan of a CSV, for a preview; nothing is written."""
    items = parse_csv(data, resolve(task, actor))
    try:
        return check_items(task, items, ticket, reason, actor, source)
    except TaskError as exc:
        raise name_rows(exc) if exc.status == 400 else exc


def _write(plan: Plan, actor, source: str) -> Bulk:
    session = console_session()
    now = utcnow()
    bulk = Bulk(task=plan.spec.name, status="pending_approval" if plan.needs_approval else "queued",
                ticket=plan.ticket, reason=plan.reason, source=source, actor=actor.email, actor_id=actor.id,
                token_issuer_id=token_issuer_id(), total=len(plan.stored), amount_cents=plan.amount_cents,
                items_hash=plan.items_hash, approval_reasons="; ".join(plan.approval_reasons),
                decision_reason="", created_at=now, heartbeat_at=now)
    session.add(bulk)
    session.flush()
    session.execute(insert(BulkItem), [{"bulk_id": bulk.id, "idx": index, "params": canonical_json(params),
                                        "status": "pending", "error": "", "attempts": 0}
                                       for index, params in enumerate(plan.stored)])
    _audit(bulk, actor=actor.email, action="bulk.request", reason=bulk.reason,
           details={"items": bulk.total, "items_hash": bulk.items_hash, "amount_cents": bulk.amount_cents,
                    "approval_reasons": plan.approval_reasons, "source": source})
    return bulk


def get_bulk(bulk_id) -> Bulk:
    try:
        number = int(bulk_id)
    except (TypeError, ValueError):
        number = 0
    bulk = console_session().get(Bulk, number) if 0 < number <= MAX_INT else None
    if bulk is None:
        raise TaskError(404, "not_found", f"there is no bulk {bulk_id}")
    if bulk.status == "pending_approval" and bulk.created_at <= _expiry_cutoff():
        _expire(bulk)
    return bulk


def _expiry_cutoff():
    return utcnow() - timedelta(hours=current_app.config.get("APPROVAL_TTL_HOURS", 24))


def _expire(bulk: Bulk) -> bool:
    """Reject an undecided bulk as expired, with its audit entry; False when it was decided meanwhile."""
    begin_writing(console_session())  # a page that reads writes here; on SQLite it takes the lock first
    try:
        _move(bulk, ("pending_approval",), "expired", status="rejected", decision_reason=EXPIRED,
              finished_at=utcnow())
    except TaskError:
        return False
    _close_items(bulk, "rejected")
    _audit(bulk, actor="system", action="bulk.expire", reason="not approved within the time limit",
           details={"items_hash": bulk.items_hash, "ttl_hours": current_app.config.get("APPROVAL_TTL_HOURS", 24)})
    return True


def expire_stale_bulks() -> int:
    """Expire every bulk that waited for approval longer than APPROVAL_TTL_HOURS; how many."""
    stale = console_session().scalars(select(Bulk).where(Bulk.status == "pending_approval",
                                                         Bulk.created_at <= _expiry_cutoff())).all()
    return sum(1 for bulk in stale if _expire(bulk))


def _move(bulk: Bulk, allowed: tuple[str, ...], verb: str, **values) -> None:
    """Change the bulk's state if it is still in one of `allowed`; a 409 otherwise."""
    session = console_session()
    moved = session.execute(update(Bulk).where(Bulk.id == bulk.id, Bulk.status.in_(allowed)).values(**values)
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.rollback()
        session.refresh(bulk)
        raise TaskError(409, "conflict", f"bulk {bulk.id} is {bulk.status}: it cannot be {verb}")
    for name, value in values.items():
        setattr(bulk, name, value)


def _reason(reason) -> str:
    try:
        return clean_reason(reason)
    except ValueError as exc:
        raise TaskError(400, "invalid", str(exc), {"reason": str(exc)}) from None


def _decider(bulk: Bulk, person, verb: str) -> None:
    refusal = four_eyes_refusal(bulk, person, verb)
    if refusal:
        raise TaskError(403, "forbidden", refusal.replace(f"run {bulk.id}", f"bulk {bulk.id}")
                        .replace("your own run", "your own bulk"))
    if not user_can(person, APPROVE_RUNS):
        raise TaskError(403, "forbidden", role_refusal(person.role, f"{verb} bulks"))


@database_guard
def approve_bulk(bulk_id, person, reason) -> Bulk:
    """Approve a pending bulk for the exact items it holds; it is queued at once."""
    bulk = get_bulk(bulk_id)
    _decider(bulk, person, "approve")
    reason = _reason(reason)
    if bulk.status != "pending_approval":
        raise TaskError(409, "conflict", f"bulk {bulk.id} is {bulk.status}, not pending approval")
    if task_registry().get(bulk.task) is None:
        raise TaskError(409, "conflict", f"task {bulk.task} is no longer available; reject the bulk instead")
    digest = stored_items_hash(bulk)
    if digest != bulk.items_hash:
        raise TaskError(409, "conflict", f"the items of bulk {bulk.id} are not the ones requested; reject it")
    now = utcnow()
    _move(bulk, ("pending_approval",), "approved", status="queued", approved_by=person.email,
          approver_id=person.id, approved_hash=digest, approved_at=now, decision_reason=reason, heartbeat_at=now)
    _audit(bulk, actor=person.email, action="bulk.approve", reason=reason,
           details={"items_hash": digest, "items": bulk.total, "requested_by": bulk.actor})
    dispatch(bulk.id)
    return bulk


@database_guard
def reject_bulk(bulk_id, person, reason) -> Bulk:
    """Reject a pending bulk; none of its items ever runs."""
    bulk = get_bulk(bulk_id)
    _decider(bulk, person, "reject")
    reason = _reason(reason)
    _move(bulk, ("pending_approval",), "rejected", status="rejected", approved_by=person.email,
          approver_id=person.id, approved_at=utcnow(), decision_reason=reason, finished_at=utcnow())
    _close_items(bulk, "rejected")
    _audit(bulk, actor=person.email, action="bulk.reject", reason=reason, details={"items_hash": bulk.items_hash})
    return bulk


def may_control(bulk: Bulk, person) -> bool:
    """The requester, a lead or an admin may pause, resume and cancel a bulk."""
    return person is not None and (person.id == bulk.actor_id or user_can(person, APPROVE_RUNS))


def _controlled(bulk_id, person, verb: str, reason) -> tuple[Bulk, str]:
    bulk = get_bulk(bulk_id)
    if not may_control(bulk, person):
        raise TaskError(403, "forbidden", f"only the requester, a lead or an admin may {verb} a bulk")
    return bulk, _reason(reason)


@database_guard
def cancel_bulk(bulk_id, person, reason) -> Bulk:
    """Stop a bulk: items not yet started never run; an item already running finishes."""
    bulk, reason = _controlled(bulk_id, person, "cancel", reason)
    _move(bulk, ("pending_approval", "paused", *WORKABLE), "cancelled", status="cancelled", finished_at=utcnow())
    _close_items(bulk, "cancelled")
    _audit(bulk, actor=person.email, action="bulk.cancel", reason=reason)
    return bulk


@database_guard
def pause_bulk(bulk_id, person, reason) -> Bulk:
    """Hold a queued or running bulk: workers claim no new item (one already running finishes)."""
    bulk, reason = _controlled(bulk_id, person, "pause", reason)
    _move(bulk, WORKABLE, "paused", status="paused")
    _audit(bulk, actor=person.email, action="bulk.paused", reason=reason)
    return bulk


@database_guard
def resume_bulk(bulk_id, person, reason) -> Bulk:
    """Put a paused bulk back on the queue; it carries on with the items not yet run."""
    bulk, reason = _controlled(bulk_id, person, "resume", reason)
    ensure_queue_available()
    now = utcnow()
    _move(bulk, ("paused",), "resumed", status="queued", heartbeat_at=now)
    _audit(bulk, actor=person.email, action="bulk.resumed", reason=reason)
    # The items running when it was paused may have been its last: no worker would look at it again.
    if finish_if_done(bulk.id):
        console_session().refresh(bulk)
    else:
        dispatch(bulk.id)
    return bulk


def _close_items(bulk: Bulk, status: str) -> None:
    console_session().execute(update(BulkItem).where(BulkItem.bulk_id == bulk.id, BulkItem.status == "pending")
                              .values(status=status).execution_options(synchronize_session=False))


def item_counts(bulk: Bulk) -> dict[str, int]:
    rows = console_session().execute(select(BulkItem.status, func.count()).where(BulkItem.bulk_id == bulk.id)
                                     .group_by(BulkItem.status))
    return {status: count for status, count in rows}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def bulk_to_dict(bulk: Bulk, counts: dict[str, int] | None = None) -> dict:
    """BULK as the contract names it, plus each status's count under `counts`."""
    counts = item_counts(bulk) if counts is None else counts
    done = sum(n for status, n in counts.items() if status not in ("pending", "running"))
    return {"id": bulk.id, "task": bulk.task, "status": bulk.status, "total": bulk.total, "done": done,
            **{name: counts.get(name, 0) for name in DONE_COUNTS},
            "ticket": bulk.ticket, "reason": bulk.reason, "actor": bulk.actor, "approved_by": bulk.approved_by,
            "created_at": _iso(bulk.created_at), "counts": counts, "amount_cents": bulk.amount_cents,
            "approval_reasons": bulk.approval_reasons, "decision_reason": bulk.decision_reason,
            "finished_at": _iso(bulk.finished_at)}


def list_items(bulk: Bulk, after: int | None = None, limit: int = 100, status: str | None = None) -> list[BulkItem]:
    """The bulk's items in order after the index `after` (a keyset page, no OFFSET), of one status if given."""
    query = select(BulkItem).where(BulkItem.bulk_id == bulk.id)
    if status:
        query = query.where(BulkItem.status == status)
    if after is not None:
        query = query.where(BulkItem.idx > after)
    return list(console_session().scalars(query.order_by(BulkItem.idx).limit(max(1, min(limit, 1000)))))


def item_spec(bulk: Bulk):
    """The bulk's task, whose parameters mask and show its items; None when the task is disabled (its items are
    then shown as stored)."""
    return task_registry().get(bulk.task)


def amount_text(bulk: Bulk) -> str:
    """The bulk's total as people read it, in its task's currency ('' without an amount)."""
    spec = item_spec(bulk)
    if spec is None and bulk.amount_cents is not None:
        return f"{bulk.amount_cents:,} in minor units (task disabled)"
    return spec.amount_text(bulk.amount_cents) if spec else ""


def item_to_dict(item: BulkItem, spec) -> dict:
    """An item as the API answers it to anyone: its personal parameters masked, as a run's are; `shown`, the same
    as people read them ([label, text] pairs, money in the currency's units), for pages and sidebars."""
    personal = Personal()
    kinds = {p.name: p.kind for p in spec.params} if spec else {}
    params = {name: personal.param(name, value, kinds.get(name)) for name, value in item.params_data.items()}
    shown = [[label, str(value)] for label, value in shown_params(spec, params)] if spec else []
    return {"index": item.idx, "params": params, "shown": shown, "status": item.status, "run_id": item.run_id,
            "error": personal.text(item.error or "")}


def pending_bulks(limit: int = 200) -> list[Bulk]:
    """The bulks waiting for a decision, oldest first, with expired ones settled first."""
    expire_stale_bulks()
    return list(console_session().scalars(select(Bulk).where(Bulk.status == "pending_approval")
                                          .order_by(Bulk.created_at, Bulk.id).limit(limit)))
