"""Undo: a lead reverses a succeeded run with a new, audited run linked to it (`undo_of`).

`@task(undo=True)` gives the generic undo: put back the `before` values of every row the
run updated, refusing when any of those columns no longer holds what the run wrote.
`undo=callable(ctx, run)` is a task's own undo; `run` is a PastRun. A run is undone at most
once: the undo claims the original (`undone_by`) with a conditional UPDATE and releases it
when it does not succeed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from console.permissions import UNDO_RUNS, role_refusal, user_can
from console.db import console_session, utcnow
from console.deflection.ticket_refs import TicketError, clean_ref
from console.tasks.approvals import requester_fields
from console.tasks.checks import TaskError, clean_reason, database_guard, get_run
from console.tasks.context import TaskContext, thing
from console.tasks.diff import describe, fingerprint
from console.tasks.execution import Preview, TaskFailure, execute, rehearse, settle
from console.tasks.models import TaskRun
from console.jsontext import jsonable
from console.tasks.registry import task_registry
from console.tasks.spec import Refusal, TaskSpec


@dataclass(frozen=True)
class PastRun:
    """The run being undone, as a custom undo sees it (params as stored: secrets redacted)."""

    id: int
    task: str
    params: dict
    changes: list
    actor: str
    ticket: str
    result: str
    created_at: datetime


def generic_undo(ctx: TaskContext, run: PastRun) -> str:
    """Restore the before values of every row the run updated, if nobody changed them since."""
    updates = [change for change in run.changes if change.get("before") is not None]
    if not updates:
        raise Refusal(f"run {run.id} changed no existing rows, so there is nothing to restore")
    for change in updates:
        table, key = change["table"], change["key"]
        row = ctx.get(table, key, lock=True)
        for column, after in change["after"].items():
            now = jsonable(row.get(column))
            if now != after:
                raise Refusal(f"{thing(table)} {key} changed since the run: {column} is now {now!r}, "
                              f"run {run.id} set it to {after!r}")
        ctx.update(table, row, **{column: ctx.from_json(table, column, value)
                                  for column, value in change["before"].items()})
    return f"Restored {len(updates)} row{'s' if len(updates) != 1 else ''} changed by run {run.id}"


def _past(run: TaskRun) -> PastRun:
    return PastRun(id=run.id, task=run.task, params=run.params_data, changes=run.changes_data, actor=run.actor,
                   ticket=run.ticket, result=run.result or "", created_at=run.created_at)


def _undo_function(spec: TaskSpec, original: TaskRun) -> Callable:
    past = _past(original)
    custom = spec.undo if callable(spec.undo) else generic_undo
    return lambda ctx, **_params: custom(ctx, past)


@database_guard
def undo_status(run: TaskRun) -> tuple[bool, str]:
    """Whether the run can be undone now and, if not, why (the run page shows one or the other)."""
    if run.undo_of is not None:
        return False, f"this run is the undo of run {run.undo_of}; run the task again instead"
    if run.status != "succeeded":
        return False, f"only a succeeded run can be undone; this one is {run.status}"
    if run.undone_by is not None:
        return False, f"already undone by run {run.undone_by}"
    spec = task_registry().get(run.task)
    if spec is None:
        return False, f"task {run.task} is no longer available (unknown or disabled)"
    if not spec.undoable:
        return False, f"{spec.name} cannot be undone: {spec.undo_note or 'it does not declare an undo'}"
    return True, ""


def _check(run_id, actor) -> tuple[TaskRun, TaskSpec]:
    original = get_run(run_id)
    if not user_can(actor, UNDO_RUNS):
        raise TaskError(403, "forbidden", role_refusal(getattr(actor, "role", None), "undo runs"))
    if original.undo_of is not None:
        raise TaskError(409, "conflict", f"run {original.id} is itself an undo; run the task again instead")
    if original.status != "succeeded":
        raise TaskError(409, "conflict", f"only a succeeded run can be undone; run {original.id} is {original.status}")
    if original.undone_by is not None:
        raise TaskError(409, "conflict", f"run {original.id} was already undone (run {original.undone_by})")
    spec = task_registry().get(original.task)
    if spec is None:
        raise TaskError(409, "conflict", f"task {original.task} is no longer available (unknown or disabled)")
    if not spec.undoable:
        note = spec.undo_note or "it does not declare an undo"
        raise TaskError(422, "refused", f"{spec.name} cannot be undone: {note}")
    return original, spec


@database_guard
def preview_undo(run_id, actor):
    """What undoing the run would change; writes nothing (422 when it would be refused)."""
    original, spec = _check(run_id, actor)
    now = utcnow()
    try:
        rehearsal = rehearse(spec, original.params_data, actor=actor.email, ticket=original.ticket,
                             reason=f"undo of run {original.id}", now=now, fn=_undo_function(spec, original))
    except Refusal as exc:
        raise TaskError(422, "refused", exc.message) from None
    except TaskFailure as exc:
        raise TaskError(422, "failed", str(exc)) from None
    return Preview(task=spec.name, title=f"Undo run {original.id}", params=original.params_data,
                   changes=rehearsal.changes, effects=rehearsal.effect_lines,
                   summary=describe(f"Undo run {original.id} ({spec.title})", rehearsal.changes,
                                    rehearsal.effect_lines, rehearsal.result),
                   risk=original.risk, needs_approval=False, preview_hash=fingerprint(rehearsal.changes,
                                                                                      rehearsal.effects, now),
                   result=rehearsal.result)


@database_guard
def undo_run(run_id, actor, ticket: str | None = None, reason: str = "", source: str = "web") -> TaskRun:
    """Undo a succeeded run (-> the succeeded undo run); TaskError otherwise (422 when rows changed since)."""
    original, spec = _check(run_id, actor)
    fields = {}
    try:
        ticket = clean_ref(ticket or original.ticket)
    except TicketError as exc:
        fields["ticket"] = str(exc)
    try:
        reason = clean_reason(reason)
    except ValueError as exc:
        fields["reason"] = str(exc)
    if fields:
        raise TaskError(400, "invalid", "; ".join(f"{k}: {v}" for k, v in fields.items()), fields)
    now = utcnow()
    undo = TaskRun(task=original.task, ticket=ticket, reason=reason, actor=actor.email, params=original.params,
                   risk=original.risk, source=source, created_at=now, customer=original.customer,
                   order_id=original.order_id, record=original.record, record_key=original.record_key,
                   undo_of=original.id, **requester_fields(actor))
    fn = _undo_function(spec, original)
    params = original.params_data
    # Rehearse before touching the console, so no console write is pending while the target works
    # (on SQLite the two may be one file).
    try:
        rehearsal = rehearse(spec, params, actor=actor.email, ticket=ticket, reason=reason, now=now, fn=fn)
    except (Refusal, TaskFailure) as exc:
        status = "refused" if isinstance(exc, Refusal) else "failed"
        return settle(undo, status, error=exc.message if isinstance(exc, Refusal) else str(exc),
                      details={"undo_of": original.id, "stage": "preview"})
    session = console_session()
    undo.status = "interrupted"
    session.add(undo)
    session.flush()
    claimed = session.execute(update(TaskRun).where(TaskRun.id == original.id, TaskRun.status == "succeeded",
                                                    TaskRun.undone_by.is_(None))
                              .values(undone_by=undo.id).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        session.rollback()
        raise TaskError(409, "conflict", f"run {original.id} is being or has been undone already")
    set_committed_value(original, "undone_by", undo.id)

    def release(session, status):
        if status != "succeeded":
            session.execute(update(TaskRun).where(TaskRun.id == original.id, TaskRun.undone_by == undo.id)
                            .values(undone_by=None).execution_options(synchronize_session=False))
            set_committed_value(original, "undone_by", None)

    return execute(undo, spec, params, now=now, expected=rehearsal, fn=fn, before_settle=release,
                   intent_details={"undo_of": original.id})
