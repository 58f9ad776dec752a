"""Working through a bulk: claim items under a lease, run each through the runner, record how it ended.

Exactly once per item. Each item is a run with the idempotency key `bulk-<bulk id>-<index>`, made by
the runner (`start_run`), whose key claim, intent and change follow the single-run rules: the target
change commits only after its audited intent, and the key points at the run in the intent's own
transaction. An item is claimed under a lease before it runs (console.bulk.leases); a worker that dies
leaves it claimed until its lease ends, when any worker may take it over. Taking an item over looks for
its run first: a run that finished gives the item its status, a run left `interrupted` (the crash came
between its intent and its outcome) leaves the item `interrupted`, to be settled by reconcile like any
single run, and only an item without a run is run. A key claimed without a run by the lost worker is
released first: its lease ended, so that worker wrote nothing to the target (no intent, no change).

An item that needs approval on its own is approved with the bulk's approval, by the bulk's approver
(`approve_run`: four-eyes and the drift check apply). In a bulk that needed no approval such an item (an
earlier item moved the cap meanwhile) waits for its own approval as a single run would.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, exists, func, or_, select, update

from console.audit.chain import record_event
from console.auth.models import StaffUser
from console.bulk.leases import (
    claim_items, claimable, end_item, hold_items, lease_length, lease_renewer, release_items, worker_name,
)
from console.bulk.models import OPEN_ITEMS, WORKABLE, Bulk, BulkItem
from console.bulk.planning import stored_items_hash
from console.db import console_session, utcnow
from console.tasks.batch import BatchRun, run_batch
from console.tasks.checks import RunRequest, TaskError
from console.tasks.models import IdempotencyKey, TaskRun
from console.tasks.runner import approve_run, start_run

log = logging.getLogger(__name__)
# Bulks whose open items a worker may still have to settle: a cancelled bulk's running items finish.
ATTENDED = (*WORKABLE, "cancelled")


class QueueStalled(Exception):
    """A database is unavailable: the worker stops, and the items it holds are taken over later."""


def item_key(bulk_id: int, index: int) -> str:
    return f"bulk-{bulk_id}-{index}"


def _earlier_run(bulk: Bulk, item: BulkItem, actor_email: str) -> TaskRun | None:
    """The item's run from an earlier attempt, if there was one (see the module docstring)."""
    session = console_session()
    key = item_key(bulk.id, item.idx)
    claim = session.scalar(select(IdempotencyKey).where(IdempotencyKey.actor == actor_email,
                                                        IdempotencyKey.key == key))
    if claim is not None and claim.run_id is not None:
        return session.get(TaskRun, claim.run_id, populate_existing=True)
    if item.attempts <= 1:
        return None
    if claim is not None:  # claimed by the lost worker, which wrote nothing: its lease ended
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim.id, IdempotencyKey.run_id.is_(None)))
        session.commit()
        return None
    # The key may have been purged since (kept a day): the run still names it, among its bulk's runs.
    return session.scalar(select(TaskRun).where(TaskRun.bulk_id == bulk.id, TaskRun.actor == actor_email,
                                                TaskRun.idempotency_key == key))


def _start(bulk: Bulk, item: BulkItem, actor) -> TaskRun | None:
    """Run the item through the runner; the run (refused and failed ones too), or None with `item.error` set."""
    try:
        return start_run(_request(bulk, item, actor))
    except TaskError as exc:
        if exc.run is not None:
            return exc.run
        if exc.status == 503:
            raise QueueStalled(exc.message) from exc
        item.error = exc.message
        return None


def _approve(bulk: Bulk, item: BulkItem, run: TaskRun, approver) -> TaskRun:
    why = f"approved with bulk {bulk.id} (item {item.idx}): {bulk.decision_reason}"
    try:
        return approve_run(run.id, approver, why)
    except TaskError as exc:
        if exc.run is not None:
            return exc.run
        if exc.status == 503:
            raise QueueStalled(exc.message) from exc
        item.error = f"the bulk's approval could not approve run {run.id}: {exc.message}"
        return run


def run_item(bulk: Bulk, item: BulkItem, owner: str, actor, approver, *, may_start: bool = True) -> str:
    """Run one claimed item exactly once; its final status. Without `may_start` (the bulk was cancelled) an
    item is only settled from the run an earlier attempt made, if any, and is otherwise cancelled."""
    run = _earlier_run(bulk, item, actor.email)
    if run is None and not may_start:
        end_item(item, owner, "cancelled")
        return "cancelled"
    run = run or _start(bulk, item, actor)
    if run is None:  # refused before a run existed (the requester lost the right to run it, a rate limit)
        end_item(item, owner, "refused", item.error)
        return "refused"
    if run.status == "pending_approval" and approver is not None:
        run = _approve(bulk, item, run, approver)
    error = item.error if run.status == "pending_approval" and item.error else run.error
    end_item(item, owner, run.status, error, run.id)
    return run.status


def _people(bulk: Bulk):
    session = console_session()
    actor = session.get(StaffUser, bulk.actor_id) if bulk.actor_id else None
    approver = session.get(StaffUser, bulk.approver_id) if bulk.approver_id else None
    return actor, approver


def _refuse_all(bulk: Bulk, message: str) -> None:
    session = console_session()
    session.execute(update(BulkItem).where(BulkItem.bulk_id == bulk.id, BulkItem.status == "pending")
                    .values(status="refused", error=message).execution_options(synchronize_session=False))
    session.commit()


def _bulk_status(bulk_id: int) -> str | None:
    session = console_session()
    session.rollback()  # a fresh read: a cancel may have committed since
    return session.scalar(select(Bulk.status).where(Bulk.id == bulk_id))


def work_bulk(bulk_id: int, owner: str | None = None, stopping=lambda: False, claimed=lambda: None) -> int:
    """Work through the bulk's claimable items until none is left, or `stopping()` says so; how many items
    this call ran. Items claimed and not run when it stops are given back at once. `stopping` is asked
    before each item: the embedded worker also yields there to the requests it serves beside. `claimed()`
    is called after each chunk claimed and before it runs (a queued job asks for a sibling there)."""
    owner = owner or worker_name()
    session = console_session()
    bulk = session.get(Bulk, bulk_id, populate_existing=True)
    if bulk is None or bulk.status not in ATTENDED:
        return 0
    actor, approver = _people(bulk)
    if actor is None:
        _refuse_all(bulk, f"the requester {bulk.actor} is no longer a staff user")
    elif bulk.approved_hash is not None and stored_items_hash(bulk) != bulk.approved_hash:
        _refuse_all(bulk, "the items are not the ones that were approved; nothing was run")
    ran = 0
    while actor is not None:
        items = claim_items(bulk_id, owner)
        if not items:
            break
        if stopping():
            release_items(items, owner)
            return ran
        status = _bulk_status(bulk_id)
        if status == "paused":  # resuming queues the bulk again; the items not run are free at once
            release_items(items, owner)
            return ran
        claimed()
        ran += work_chunk(bulk, hold_items(items, owner), owner, actor, approver, may_start=status != "cancelled")
    finish_if_done(bulk_id)
    return ran


def work_chunk(bulk: Bulk, items: list[BulkItem], owner: str, actor, approver, *, may_start: bool = True) -> int:
    """Run claimed items: the fresh ones as one batch (console.tasks.batch), the others (taken over from a lost
    worker, or left by the batch to the runner) one by one; how many ran. QueueStalled when a database is
    unavailable, the items not run given back."""
    fresh = [item for item in items if item.attempts <= 1] if may_start else []
    taken_over = [item for item in items if item not in fresh]
    for position, item in enumerate(taken_over):
        try:
            run_item(bulk, item, owner, actor, approver, may_start=may_start)
        except QueueStalled:
            release_items(taken_over[position:] + fresh, owner)
            raise
    if not fresh:
        return len(taken_over)
    try:
        result = run_batch([BatchRun(_request(bulk, item, actor), tag=item) for item in fresh],
                           on_intent=_items_ended(owner), on_outcome=_items_ended(owner),
                           keep_alive=lease_renewer(fresh, owner))
    except TaskError as exc:  # 503: nothing of the batch was written, in either database
        release_items(fresh, owner)
        raise QueueStalled(exc.message) from exc
    alone = [run.tag for run in result.runs if run.status == "single"]
    if result.stalled:
        _stalled(result, owner)
        raise QueueStalled(result.stalled)
    for position, item in enumerate(alone):
        try:
            run_item(bulk, item, owner, actor, approver)
        except QueueStalled:
            release_items(alone[position:], owner)
            raise
    return len(items)


def _items_ended(owner: str):
    """A hook of the batch's console transactions: each item whose run was just recorded takes its status."""

    def write(session, runs: list[BatchRun]) -> None:
        # The items still running get a fresh lease: a chunk takes longer than one item, and an item whose
        # lease ends mid-chunk would be taken over while its run is being made here.
        lease = utcnow() + lease_length()
        rows = [{"item_id": run.tag.id, "new_status": run.status if run.recorded else "running",
                 "new_error": (run.error or "")[:4000] if run.recorded else "",
                 "new_run": run.run.id if run.run is not None else None,
                 "new_lease": None if run.recorded else lease}
                for run in runs if run.recorded or (run.run is not None and run.status == "")]
        if rows:
            session.execute(_END_ITEM.where(_ITEMS.c.owner == owner), rows)

    return write


_ITEMS = BulkItem.__table__
_END_ITEM = update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id")).values(
    status=bindparam("new_status"), error=bindparam("new_error"), run_id=bindparam("new_run"),
    lease_until=bindparam("new_lease"))


def _stalled(result, owner: str) -> None:
    """The batch stopped on a database: its interrupted items say so, the ones it did not run are given back."""
    unrun = [run.tag for run in result.runs if run.status in ("unrun", "single")]
    release_items(unrun, owner)
    session = console_session()
    try:
        session.rollback()
        rows = [{"item_id": run.tag.id, "new_status": "interrupted", "new_error": "", "new_run": run.run.id,
                 "new_lease": None}
                for run in result.runs if run.status == "interrupted" and run.run is not None]
        if rows:
            session.execute(_END_ITEM.where(_ITEMS.c.owner == owner), rows)
        session.commit()
    except Exception:  # the console is down too: the leases end, and a takeover finds the runs
        session.rollback()


def _request(bulk: Bulk, item: BulkItem, actor) -> RunRequest:
    return RunRequest(task=bulk.task, params=item.params_data, ticket=bulk.ticket, reason=bulk.reason,
                      actor=actor, idempotency_key=item_key(bulk.id, item.idx), source=bulk.source, bulk_id=bulk.id)


def finish_if_done(bulk_id: int) -> bool:
    """Mark the bulk finished once no item is open, with its audit entry; True when this call did."""
    session = console_session()
    session.rollback()
    still_open = session.scalar(select(func.count()).select_from(BulkItem)
                                .where(BulkItem.bulk_id == bulk_id, BulkItem.status.in_(OPEN_ITEMS)))
    if still_open:
        return False
    now = utcnow()
    moved = session.execute(update(Bulk).where(Bulk.id == bulk_id, Bulk.status.in_(WORKABLE))
                            .values(status="finished", finished_at=now).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.rollback()
        return False
    bulk = session.get(Bulk, bulk_id, populate_existing=True)
    counts = dict(session.execute(select(BulkItem.status, func.count()).where(BulkItem.bulk_id == bulk_id)
                                  .group_by(BulkItem.status)).all())
    record_event(session, actor="system", action="bulk.finish", reason=bulk.reason, outcome="finished",
                 subject_type="bulk", subject_id=bulk.id, ticket=bulk.ticket, task=bulk.task,
                 details={"counts": counts})
    return True


def claimable_bulks(limit: int = 50) -> list[int]:
    """Bulks with an item to run now: pending, or running under a lease that ended."""
    now = utcnow()
    has_work = exists().where(claimable(Bulk.id, now))
    return list(console_session().scalars(select(Bulk.id).where(Bulk.status.in_(ATTENDED), has_work)
                                          .order_by(Bulk.id).limit(limit)))


def stalled_bulks(limit: int = 50, skip: set[int] = frozenset()) -> list[int]:
    """Bulks with open items that no worker has touched for BULK_STALL_SECONDS, but those in `skip`, each
    claimed for one re-queueing (its heartbeat is moved on, so concurrent sweeps queue it once)."""
    session = console_session()
    now = utcnow()
    cutoff = now - timedelta(seconds=current_app.config.get("BULK_STALL_SECONDS", 30))
    stale = or_(Bulk.heartbeat_at.is_(None), Bulk.heartbeat_at < cutoff)
    has_open = exists().where(BulkItem.bulk_id == Bulk.id, BulkItem.status.in_(OPEN_ITEMS))
    found = []
    found_ids = select(Bulk.id).where(Bulk.status.in_(ATTENDED), stale, has_open, Bulk.id.not_in(skip))
    for bulk_id in list(session.scalars(found_ids.order_by(Bulk.id).limit(limit))):
        moved = session.execute(update(Bulk).where(Bulk.id == bulk_id, stale).values(heartbeat_at=now)
                                .execution_options(synchronize_session=False))
        session.commit()
        if moved.rowcount == 1:
            found.append(bulk_id)
    return found


def follow_reconciled_items() -> int:
    """Give `interrupted` items the status their run was settled with (by reconcile); how many changed."""
    session = console_session()
    rows = session.execute(select(BulkItem.id, TaskRun.status, TaskRun.error)
                           .join(TaskRun, TaskRun.id == BulkItem.run_id)
                           .where(BulkItem.status == "interrupted", TaskRun.status != "interrupted")).all()
    for item_id, status, error in rows:
        session.execute(update(BulkItem).where(BulkItem.id == item_id, BulkItem.status == "interrupted")
                        .values(status=status, error=error or "").execution_options(synchronize_session=False))
    session.commit()
    return len(rows)
