"""Settling interrupted runs: an audit intent with no outcome (a crash between commit and outcome).

`reconcile_run` reads what the intent expected the run to write and compares it with the
target rows: rows holding the expected `after` values mean the transaction committed (it is
all or nothing), rows still holding the `before` values mean it did not. A committed run
whose emails are missing from the outbox gets them queued now. When the rows tell nothing
(changed again since), a person decides with `settle_as`.

A run shows `interrupted` from its intent until its outcome, normally milliseconds; runs
started less than RECONCILE_AFTER_SECONDS ago (default 60) may still be running and are
left alone.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from console.audit.models import AuditEntry
from console.permissions import UNDO_RUNS, role_refusal, user_can
from console.db import console_session, target_session, utcnow
from console.formatting import counted
from console.tasks.checks import TaskError, clean_reason, database_guard, get_run
from console.tasks.context import TaskContext, thing
from console.tasks.diff import NOW, normalise
from console.tasks.execution import settle, target_tables
from console.tasks.models import TaskRun
from console.jsontext import jsonable
from console.tasks.spec import Refusal

DEFAULT_AFTER_SECONDS = 60


def _cutoff(seconds: float | None) -> datetime:
    if seconds is None:
        seconds = current_app.config.get("RECONCILE_AFTER_SECONDS", DEFAULT_AFTER_SECONDS)
    return utcnow() - timedelta(seconds=seconds)


@database_guard
def find_interrupted_runs(older_than_seconds: float | None = None) -> list[TaskRun]:
    """Runs whose intent was written but whose outcome was not, started long enough ago to be stuck."""
    cutoff = _cutoff(older_than_seconds)
    return list(console_session().scalars(
        select(TaskRun).where(TaskRun.status == "interrupted", TaskRun.started_at <= cutoff).order_by(TaskRun.id)))


def _intent(run: TaskRun) -> dict:
    entry = console_session().scalar(
        select(AuditEntry).where(AuditEntry.subject_type == "task_run", AuditEntry.subject_id == str(run.id),
                                 AuditEntry.action == "task.intent").order_by(AuditEntry.seq.desc()).limit(1))
    if entry is not None:
        return json.loads(entry.details)
    now = run.started_at or run.created_at
    return {"now": now.isoformat(), "expected": normalise(run.changes_data, run.effects_data, now)}


def _values(ctx: TaskContext, table: str, mapping: dict, stamp: str) -> dict:
    return {name: ctx.from_json(table, name, stamp if value == NOW else value) for name, value in mapping.items()}


def _compare(expected: dict, stamp: str) -> tuple[str, list[str], list[dict]]:
    """('applied' | 'not_applied' | 'unknown', evidence lines, effects missing from the outbox)."""
    session = target_session()
    session.rollback()
    now = datetime.fromisoformat(stamp)
    ctx = TaskContext(session, target_tables(), actor="", ticket="", reason="", params={}, now=now, is_preview=True)
    applied, not_applied, evidence = 0, 0, []
    try:
        for change in expected["changes"]:
            table = change["table"]
            if change["before"] is None:
                found = ctx.find_all(table, limit=1, **_values(ctx, table, change["after"], stamp))
                applied, not_applied = applied + bool(found), not_applied + (not found)
                evidence.append(f"insert into {table}: {'found' if found else 'not found'}")
                continue
            try:
                row = ctx.get(table, change["key"])
            except Refusal as exc:
                evidence.append(str(exc))
                continue
            current = {name: jsonable(row.get(name)) for name in change["after"]}
            after = {name: stamp if value == NOW else value for name, value in change["after"].items()}
            before = {name: stamp if value == NOW else value for name, value in change["before"].items()}
            if current == after:
                applied += 1
                evidence.append(f"{thing(table)} {change['key']}: holds the run's values")
            elif current == before:
                not_applied += 1
                evidence.append(f"{thing(table)} {change['key']}: still holds the values from before the run")
            else:
                evidence.append(f"{thing(table)} {change['key']}: now {current}, neither the run's {after} "
                                f"nor the earlier {before}")
        missing = []
        for effect in expected["effects"]:
            if effect.get("kind") == "email" and not ctx.find_all("email_outbox", limit=1, to_address=effect["to"],
                                                             template=effect["template"], created_at=now):
                missing.append(effect)
        if not expected["changes"] and expected["effects"]:
            applied, not_applied = (0, 1) if missing else (1, 0)
            evidence.append(f"{len(expected['effects']) - len(missing)} of {len(expected['effects'])} emails queued")
    finally:
        session.rollback()
    if not expected["changes"] and not expected["effects"]:
        return "applied", ["the run changes nothing, so there was nothing to lose"], []
    if applied and not not_applied:
        return "applied", evidence, missing
    if not_applied and not applied:
        return "not_applied", evidence, missing
    return "unknown", evidence, missing


def _queue(missing: list[dict], stamp: str) -> str:
    if not missing:
        return ""
    session = target_session()
    ctx = TaskContext(session, target_tables(), actor="", ticket="", reason="", params={},
                      now=datetime.fromisoformat(stamp), is_preview=False)
    ctx.effects = missing
    try:
        ctx.write_outbox()
        session.commit()
    except Exception as exc:
        session.rollback()
        return f"; the {counted(len(missing), 'missing email')} could not be queued ({exc.__class__.__name__})"
    return f"; queued {counted(len(missing), 'email')} that the interruption lost"


@database_guard
def reconcile_run(run_id, actor, settle_as: str | None = None, reason: str | None = None) -> TaskRun:
    """Settle an interrupted run as succeeded or failed from the target rows (or by hand with settle_as)."""
    run = get_run(run_id)
    if not user_can(actor, UNDO_RUNS):
        raise TaskError(403, "forbidden", role_refusal(getattr(actor, "role", None), "reconcile runs"))
    if run.status != "interrupted":
        raise TaskError(409, "conflict", f"run {run.id} is {run.status}, not interrupted")
    if run.started_at is not None and run.started_at > _cutoff(None):
        raise TaskError(409, "conflict", f"run {run.id} started moments ago and may still be running; try again "
                                         "in a minute")
    if settle_as not in (None, "succeeded", "failed"):
        raise TaskError(400, "invalid", "settle_as is succeeded or failed", {"settle_as": "succeeded or failed"})
    try:
        reason = clean_reason(reason or "reconciled after an interruption")
    except ValueError as exc:
        raise TaskError(400, "invalid", str(exc), {"reason": str(exc)}) from None
    intent = _intent(run)
    verdict, evidence, missing = _compare(intent["expected"], intent["now"])
    if settle_as is None and verdict == "unknown":
        raise TaskError(409, "conflict", f"cannot tell whether run {run.id} was applied: " + "; ".join(evidence)
                        + ". Check the rows and settle it by hand (succeeded or failed).")
    status = settle_as or ("succeeded" if verdict == "applied" else "failed")
    note = f" ({'settled by hand' if settle_as else 'found by comparing the rows'})"
    result = error = ""
    if status == "succeeded":
        result = f"reconciled: the change was committed{note}" + _queue(missing, intent["now"])
    else:
        error = f"interrupted before the change was committed{note}"

    def release_undo(session):
        if status != "succeeded" and run.undo_of is not None:
            session.execute(update(TaskRun).where(TaskRun.id == run.undo_of, TaskRun.undone_by == run.id)
                            .values(undone_by=None).execution_options(synchronize_session=False))

    settle(run, status, result=result, error=error, action="task.reconcile", actor=actor.email, reason=reason,
           details={"verdict": verdict, "evidence": evidence, "settle_as": settle_as},
           before_commit=release_undo, raise_failure=False)
    original = console_session().get(TaskRun, run.undo_of) if run.undo_of else None
    if original is not None and status != "succeeded":
        set_committed_value(original, "undone_by", None)
    return run
