"""Running a task function: the rolled-back preview, and the audited, locked, committed execution.

Execution order (fail closed): the audit intent is committed with the run row first
(if it cannot be written, nothing runs); then the change commits in ONE target transaction,
with row locks on PostgreSQL; the after-commit effects (outbox emails); then the outcome, the
diff and the ticket event in one console commit. A run that needs no approval is made once,
for real, and held uncommitted (locks and all) while its intent is written; an approved run
is made again at execution, and compared with what was approved.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from console.audit.chain import AuditUnavailable, record_event
from console.db import console_session, target_session, utcnow
from console.deflection.tickets import add_run_event
from console.jsontext import Encoded, encode, encode_plain
from console.tasks.checks import CheckedRequest, TaskError
from console.tasks.context import TaskContext
from console.tasks.diff import Drift, drift_message, fingerprint, normalise, stored_changes
from console.tasks.diff import describe  # noqa: F401 (console.bulk.planning imports it from here)
from console.tasks.models import TaskRun
from console.tasks.policy import Decision, counts_again, recount
from console.tasks.rows import run_row
from console.tasks.spec import Refusal, TaskSpec, subject_from_params
from console.tasks.tables import TargetTables

log = logging.getLogger(__name__)
NOTHING = encode([])  # the changes and effects of a run that changed nothing


# The request's Sessions themselves, not the scoped registries that look them up again at each method call.
def _target():
    return target_session()()


def _console():
    return console_session()()


class TaskFailure(Exception):
    """The task crashed or the database refused the change; the message is safe to show."""


@dataclass
class Rehearsal:
    """What a run did (or would do): its changes, effects, result and the customer it concerns.

    The changes and effects hold plain JSON values (the task's context records them so): they are
    encoded as they are, once.
    """

    changes: list[dict]
    effects: list[dict]
    effect_lines: list[str]
    result: str
    customer: str = ""
    order_id: int | None = None
    context: TaskContext | None = field(default=None, repr=False)
    redact_before: bool = False
    _stored_json: tuple[Encoded, Encoded] | None = field(default=None, init=False, repr=False, compare=False)

    def stored_changes(self) -> list[dict]:
        """The changes as stored and audited: with the task's `redact_before`, no before values."""
        return stored_changes(self.changes, self.redact_before)

    def stored_json(self) -> tuple[Encoded, Encoded]:
        """The stored changes and the effects as JSON, encoded once: the run's row and both its audit
        entries (intent and outcome) place this same text."""
        if self._stored_json is None:
            self._stored_json = (encode_plain(self.stored_changes()), encode_plain(self.effects))
        return self._stored_json


@dataclass
class Preview:
    """What a run would do; nothing of it is written."""

    task: str
    title: str
    params: dict  # typed values (secrets included: never store or show this dict as is)
    changes: list[dict]
    effects: list[str]
    summary: str
    risk: str
    needs_approval: bool
    preview_hash: str
    approval_reasons: list[str] = field(default_factory=list)
    result: str = ""

    def to_dict(self) -> dict:
        return {"task": self.task, "changes": self.changes, "effects": self.effects, "summary": self.summary,
                "risk": self.risk, "needs_approval": self.needs_approval, "approval_reasons": self.approval_reasons,
                "preview_hash": self.preview_hash, "result": self.result}


def target_tables() -> TargetTables:
    tables = current_app.extensions.get("task_tables")
    if tables is None:
        tables = current_app.extensions.setdefault("task_tables", TargetTables())
    return tables


def failure_message(exc: Exception) -> str:
    if isinstance(exc, SQLAlchemyError):
        original = getattr(exc, "orig", None) or exc
        text = str(original).strip().splitlines()[0] if str(original).strip() else ""
        return f"database error ({exc.__class__.__name__}): {text}"[:1000]
    return f"the task failed ({exc.__class__.__name__}: {exc})"[:1000]


def call_task(fn: Callable, ctx: TaskContext, params: dict) -> str:
    result = fn(ctx, **params)
    return "" if result is None else str(result)[:4000]


def run_subject(spec: TaskSpec, params: dict, ctx: TaskContext) -> tuple[str, int | None]:
    """The run's customer and order: from the parameters; the customer else from the rows the task read."""
    customer, order_id = subject_from_params(spec, params)
    return customer or ctx.customer_email(), order_id


def rehearse(spec: TaskSpec, params: dict, *, actor: str, ticket: str, reason: str, now: datetime,
             fn: Callable | None = None) -> Rehearsal:
    """Run the task in a target transaction and roll it back; raise Refusal or TaskFailure."""
    session = _target()
    session.rollback()
    ctx = TaskContext(session, target_tables(), actor=actor, ticket=ticket, reason=reason, params=params,
                      now=now, is_preview=True)
    try:
        result = call_task(fn or spec.fn, ctx, params)
        customer, order_id = run_subject(spec, params, ctx)
    except Refusal:
        raise
    except Exception as exc:
        log.exception("preview of task %s failed", spec.name)
        raise TaskFailure(failure_message(exc)) from exc
    finally:
        session.rollback()
    return Rehearsal(changes=ctx.changes, effects=ctx.effects, effect_lines=ctx.effect_lines(), result=result,
                     customer=customer, order_id=order_id, context=ctx, redact_before=spec.redact_before)


def apply(spec: TaskSpec, params: dict, *, actor: str, ticket: str, reason: str, now: datetime,
          fn: Callable | None = None, expected_hash: str | None = None, commit: bool = True) -> Rehearsal:
    """Run the task for real in one target transaction and commit; raise Refusal, Drift or TaskFailure.

    With commit=False the transaction is left open, its row locks held, for `execute(prepared=...)`
    to commit once the intent is safely in the audit trail.
    """
    session = _target()
    session.rollback()  # start from a fresh snapshot, never one left over from an earlier read
    ctx = TaskContext(session, target_tables(), actor=actor, ticket=ticket, reason=reason, params=params,
                      now=now, is_preview=False)
    try:
        result = call_task(fn or spec.fn, ctx, params)
        if expected_hash is not None and fingerprint(ctx.changes, ctx.effects, now) != expected_hash:
            raise Drift(ctx.changes)
        customer, order_id = run_subject(spec, params, ctx)
        if commit:
            session.commit()
    except (Refusal, Drift):
        session.rollback()
        raise
    except Exception as exc:
        session.rollback()
        log.exception("task %s failed", spec.name)
        raise TaskFailure(failure_message(exc)) from exc
    return Rehearsal(changes=ctx.changes, effects=ctx.effects, effect_lines=ctx.effect_lines(), result=result,
                     customer=customer, order_id=order_id, context=ctx, redact_before=spec.redact_before)


def run_effects(rehearsal: Rehearsal) -> str:
    """Queue the run's emails in their own transaction; return an error message, or ""."""
    if not rehearsal.effects:
        return ""
    session = _target()
    try:
        rehearsal.context.write_outbox()
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("after-commit effects failed")
        return "the change was committed but its emails could not be queued: " + failure_message(exc)
    return ""


# ---- the console side ------------------------------------------------------------------

def audit_fields(run: TaskRun) -> dict:
    return {"subject_type": "task_run", "subject_id": run.id, "ticket": run.ticket, "task": run.task,
            "customer": run.customer or ""}


def run_people(run: TaskRun) -> dict:
    """Who asked for an approved run and who approved it, named alike on each of its audit entries.

    The run's own entries (its intent and its outcome) are the requester's, as actor; the approval
    is the approver's act, and theirs alone.
    """
    if run.approved_by and run.approved_at is not None and run.status != "rejected":
        return {"requested_by": run.actor, "approved_by": run.approved_by}
    return {}


class ApprovalNowNeeded(TaskError):
    """The exact recount, once the run's row was written, found that it needs approval after all."""

    def __init__(self, decision: Decision):
        super().__init__(409, "conflict", "; ".join(decision.reasons))
        self.decision = decision


def separate_transactions() -> bool:
    """Whether the target change can stay open while the console commits the intent.

    Not when both are one SQLite file: its single writer lock would make the intent wait on
    the change it must precede.
    """
    dbs = current_app.extensions["console_db"]
    return not (dbs.same_database and dbs.target_engine.dialect.name == "sqlite")



def first_write(claim, run: TaskRun, checked: CheckedRequest, actor, decision: Decision | None):
    """The hook of a run's first commit, in its transaction: point the idempotency claim at the run, and
    count again, exactly, now that the run's row is written (the first counts can race): the rate limit,
    and for a run decided without approval, the caps and the takeover rule."""

    def first_write(session):
        if claim is not None:
            claim.run_id = run.id
        limited, needed = recount(session, checked.spec, checked.params, actor, run_id=run.id, decided=decision)
        if limited:
            raise TaskError(429, "rate_limited", limited)
        if needed is not None:
            raise ApprovalNowNeeded(needed)

    # With nothing to count, the hook reads nothing: write_run may send the run's INSERT with the head's lock.
    first_write.reads_row = counts_again(checked.spec, checked.params, actor, decision)
    return first_write


def write_run(run: TaskRun, *, action: str, actor: str | None = None, reason: str | None = None,
              details: dict | None = None, ticket_event: bool = True, before_commit: Callable | None = None):
    """Save the run, its ticket event and one audit entry in one console commit (503 when the audit fails)."""
    session = _console()
    # Does the hook read the run's row (an exact recount) before the head's lock? Then the row goes first.
    row_first = before_commit is not None and getattr(before_commit, "reads_row", True)
    # A hook's refusal (the exact rate limit) or any failure: the block rolls back, nothing of this run is kept.
    try:
        # A run written before (its outcome) without a hook, that might read its row, has its UPDATE sent with
        # the audit head's lock: a round trip fewer. So does a new run's INSERT (an intent) when nothing reads its
        # row first; the entry names the run by the id it comes back with. A run's ticket event is written
        # before the head's lock, as every ticket's are (one lock order), so it needs the id first.
        with run_row(session, run, hold_update=before_commit is None,
                     hold_insert=not row_first and not ticket_event) as held:
            if row_first:
                before_commit(session)
            if ticket_event:
                add_run_event(session, run.ticket, actor=run.actor, task=run.task, run_id=run.id,
                              run_status=run.status, undo_of=run.undo_of, bulk_id=run.bulk_id,
                              customer=run.customer or "")  # an undone run no longer deflects
            record_event(session, actor=actor or run.actor, action=action,
                         reason=run.reason if reason is None else reason, outcome=run.status,
                         details={**(details or {}), **run_people(run)}, along=held, commit=False,
                         **audit_fields(run))
            if before_commit is not None and not row_first:
                before_commit(session)
            session.commit()
    except SQLAlchemyError as exc:
        raise TaskError(503, "audit_unavailable", f"the console database cannot be written, so nothing was run "
                                                  f"({exc.__class__.__name__})") from exc
    except AuditUnavailable as exc:
        raise TaskError(503, "audit_unavailable", f"{exc}; nothing was run") from exc


def end_fields(run: TaskRun, status: str, *, rehearsal: Rehearsal | None = None, result: str = "",
               error: str = "") -> None:
    """A run's final fields (its status, result or error, and the change it made), as its outcome records them."""
    run.status = status
    run.finished_at = utcnow()
    run.error = error[:4000]
    run.result = result or (rehearsal.result if rehearsal else "")
    if status == "succeeded" and rehearsal is not None:
        run.changes, run.effects = rehearsal.stored_json()
        run.customer = run.customer or rehearsal.customer or ""
        run.order_id = run.order_id if run.order_id is not None else rehearsal.order_id
    elif status != "succeeded":
        run.changes, run.effects = NOTHING, NOTHING


def settle(run: TaskRun, status: str, *, rehearsal: Rehearsal | None = None, result: str = "", error: str = "",
           action: str = "task.outcome", actor: str | None = None, reason: str | None = None,
           details: dict | None = None, before_commit: Callable | None = None, raise_failure: bool = True) -> TaskRun:
    """Give a run its final status with the outcome audited; raise TaskError 422 when it did not succeed."""
    end_fields(run, status, rehearsal=rehearsal, result=result, error=error)
    body = {"changes": Encoded(run.changes), "effects": Encoded(run.effects), "result": run.result,
            "error": run.error, **(details or {})}
    try:
        write_run(run, action=action, actor=actor, reason=reason, details=body, before_commit=before_commit)
    except TaskError as exc:
        if run.started_at is not None:
            raise TaskError(503, "audit_unavailable",
                            f"run {run.id}: the outcome could not be recorded ({exc.message}); the run stays "
                            "interrupted until it is reconciled") from exc
        raise
    if status != "succeeded" and raise_failure:
        raise TaskError(422, status, run.error or status, run=run)
    return run


def execute(run: TaskRun, spec: TaskSpec, params: dict, *, now: datetime, expected: Rehearsal | None,
            fn: Callable | None = None, expected_hash: str | None = None, refusal_prefix: str = "",
            intent_details: dict | None = None, on_intent: Callable | None = None,
            before_settle: Callable[[Any, str], None] | None = None, prepared: Rehearsal | None = None) -> TaskRun:
    """Intent, apply, effects, outcome: the one execution path (module docstring).

    The caller may have made uncommitted console changes (an approval, an undo claim); they
    commit together with the intent, or not at all. `prepared` is a change already made by
    `apply(commit=False)` in the open target transaction: it commits only after the intent
    did, and is rolled back if the intent cannot be written.
    """
    run.status = "interrupted"
    run.started_at = now
    if expected is not None:
        expected_changes, expected_effects = expected.stored_changes(), expected.effects
        run.changes, run.effects = expected.stored_json()
    else:  # an approved run: what was approved, as its row stores it (encoded when it was asked for)
        expected_changes, expected_effects = json.loads(run.changes or "[]"), json.loads(run.effects or "[]")
    try:
        write_run(run, action="task.intent", ticket_event=False, before_commit=on_intent,
                  details={"params": run.params_json, "now": now.isoformat(), "source": run.source,
                           "expected": encode_plain(normalise(expected_changes, expected_effects, now)),
                           **(intent_details or {})})
    except BaseException:
        if prepared is not None:
            target_session().rollback()  # no intent, no change
        raise

    def finish(status, **kwargs):
        hook = (lambda session: before_settle(session, status)) if before_settle else None
        return settle(run, status, before_commit=hook, **kwargs)

    try:
        done = (_commit_prepared(prepared) if prepared is not None else
                apply(spec, params, actor=run.actor, ticket=run.ticket, reason=run.reason, now=now, fn=fn,
                      expected_hash=expected_hash))
    except Drift as exc:  # not a tool failure: the record moved on, and the run is refused
        return finish("refused", error=drift_message(expected_changes, exc.changes, now))
    except Refusal as exc:
        return finish("refused", error=refusal_prefix + exc.message)
    except TaskFailure as exc:
        return finish("failed", error=str(exc))
    effects_error = run_effects(done)
    return finish("succeeded", rehearsal=done, details={"effects_error": effects_error} if effects_error else None,
                  result=done.result + (f" ({effects_error})" if effects_error else ""))


def _commit_prepared(prepared: Rehearsal) -> Rehearsal:
    session = _target()
    try:
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("commit of a prepared task run failed")
        raise TaskFailure(failure_message(exc)) from exc
    return prepared
