"""The console transactions of a batch (console.tasks.batch): step 2, the intents, and step 4, the outcomes.

Each writes every run's row, its audit entry and its ticket event, and the caller's own writes, in one
commit. The rows are written with prebuilt Core statements (console.tasks.rows), not the ORM's unit of
work. The rows every worker of a bulk must lock, its ticket's and the audit head's, are written last,
just before the commit: two workers of one bulk wait on each other only for that long.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from console.audit.batch import append_many
from console.db import console_session, target_session
from console.deflection.tickets import add_task_run_events
from console.jsontext import Encoded, encode_plain
from console.tasks import idempotency
from console.tasks.checks import CheckedRequest, RunRequest, TaskError
from console.tasks.diff import normalise
from console.tasks.execution import Rehearsal, audit_fields, end_fields, run_people
from console.tasks.models import IdempotencyKey, TaskRun
from console.tasks.policy import Decision, recount_many
from console.tasks.rows import forget_runs, save_runs
from console.tasks.runner import new_run

log = logging.getLogger(__name__)


@dataclass
class BatchRun:
    """One run of a batch: its request and, once the batch is over, how it ended."""

    request: RunRequest
    tag: Any = None  # the caller's own (a bulk item)
    checked: CheckedRequest | None = None
    decision: Decision | None = None
    run: TaskRun | None = None
    done: Rehearsal | None = None
    expected_hash: str | None = None
    # "" while in the batch; then succeeded, refused or failed (refused without a run when the request
    # itself was refused: `error` says why), interrupted (see step 3), single (the runner must run it
    # on its own) or unrun (handed back untouched: the batch stalled).
    status: str = ""
    error: str = ""
    stage: str = ""  # "preview" when refused or failed before any intent, as the runner says it
    recorded: bool = False  # its final status is committed
_KEYS = insert(IdempotencyKey.__table__)


class NeedsApprovalNow(Exception):
    def __init__(self, runs: list[BatchRun]):
        super().__init__("a run needs approval after the exact recount")
        self.runs = runs


def rollback(session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:
        log.exception("rollback failed")


def write_intents(runs: list[BatchRun], now, on_intent: Callable | None) -> None:
    """Step 2: the runs, their keys and audit entries, and the caller's writes, in one commit. A duplicate key
    raises IntegrityError, a run that now needs approval NeedsApprovalNow; any other failure is a TaskError
    503. Whenever it raises, nothing of it is kept and the target transaction is rolled back too."""
    session = console_session()
    rows = [run for run in runs if run.status in ("", "refused", "failed") and run.checked is not None]
    try:
        for run in rows:
            run.run = new_run(run.request, run.checked, run.request.idempotency_key)
            if run.status == "":
                _start_fields(run.run, run.done, now)
            else:
                end_fields(run.run, run.status, error=run.error)
        save_runs(session, [run.run for run in rows])
        keys = [{"actor": run.run.actor, "key": run.run.idempotency_key, "created_at": now, "run_id": run.run.id,
                 "request_hash": idempotency.request_hash(run.checked)} for run in rows if run.run.idempotency_key]
        if keys:
            session.connection().execute(_KEYS, keys)
        _recount([run for run in rows if run.status == ""])
        for run in runs:
            run.recorded = run.status in ("refused", "failed")
        if on_intent is not None:
            on_intent(session, runs)
        entries = [_intent_entry(run.run, run.done, now) if run.status == "" else _outcome_entry(run) for run in rows]
        _ticket_events(session, [run for run in rows if run.status != ""])
        append_many(session, entries)
        session.commit()
    except (IntegrityError, NeedsApprovalNow):
        _undo_intents(session, runs, rows)
        raise
    except SQLAlchemyError as exc:
        _undo_intents(session, runs, rows)  # no intent, no change
        raise TaskError(503, "audit_unavailable", f"the console database cannot be written, so nothing was run "
                                                  f"({exc.__class__.__name__})") from exc


def _undo_intents(session, runs: list[BatchRun], rows: list[BatchRun]) -> None:
    rollback(session)
    forget_runs(session, [run.run for run in rows if run.run is not None])
    rollback(target_session())
    for run in runs:
        run.recorded = False


def _recount(started: list[BatchRun]) -> None:
    """The runner's exact recount of each run, now that every run of the batch is written: per person and
    task, one lock and one read of the counts (console.tasks.policy.recount_many)."""
    groups: dict[tuple[str, str], list[BatchRun]] = {}
    for run in started:
        groups.setdefault((run.checked.spec.name, run.request.actor.email), []).append(run)
    again = []
    for group in groups.values():
        needed = recount_many(console_session(), group[0].checked.spec,
                              [(run.checked.params, run.decision) for run in group], group[0].request.actor,
                              run_ids=[run.run.id for run in group])
        again += [run for run, decision in zip(group, needed) if decision is not None]
    if again:
        raise NeedsApprovalNow(again)


def _start_fields(row: TaskRun, done: Rehearsal, now) -> None:
    """A run whose change is made and waits for its intent: `interrupted` until its outcome (as `execute`)."""
    row.status, row.started_at = "interrupted", now
    row.changes, row.effects = done.stored_json()  # plain already (the context records them so): encoded once
    row.customer = row.customer or done.customer
    row.order_id = row.order_id if row.order_id is not None else done.order_id


def _entry(row: TaskRun, action: str, details: dict) -> dict:
    return {"actor": row.actor, "action": action, "reason": row.reason, "outcome": row.status,
            "details": {**details, **run_people(row)}, **audit_fields(row)}


def _intent_entry(row: TaskRun, done: Rehearsal, now) -> dict:
    # Encoded once, as the runner's intent (plain already): the audit places it unparsed.
    expected = encode_plain(normalise(done.stored_changes(), done.effects, now))
    return _entry(row, "task.intent", {"params": row.params_json, "now": now.isoformat(), "source": row.source,
                                       "expected": expected})


def _outcome_entry(run: BatchRun, extra: dict | None = None) -> dict:
    row = run.run
    details = {"changes": Encoded(row.changes), "effects": Encoded(row.effects), "result": row.result,
               "error": row.error, **(extra or {})}
    if run.stage == "preview":
        details.update(params=row.params_json, stage="preview")
    return _entry(row, "task.outcome", details)


def _ticket_events(session, ended: list[BatchRun]) -> None:
    """Each run's event on its ticket, as `write_run` adds it (with the bulk it is an item of); the runs of
    one ticket together."""
    tickets: dict[tuple[str, str], list[BatchRun]] = {}
    for run in ended:
        tickets.setdefault((run.run.ticket, run.run.actor), []).append(run)
    for (ticket, actor), runs in tickets.items():
        add_task_run_events(session, ticket, [{"task": run.run.task, "run_id": run.run.id,
                                               "run_status": run.run.status, "undo_of": run.run.undo_of,
                                               "bulk_id": run.run.bulk_id} for run in runs], actor=actor,
                            customer=next((run.run.customer for run in runs if run.run.customer), ""))


def write_outcomes(runs: list[BatchRun], started: list[BatchRun], on_outcome: Callable | None) -> str:
    """Step 4: every outcome of the runs that made their change, and the caller's writes, in one commit;
    why it could not be written, or ""."""
    session = console_session()
    entries = []
    try:
        for run in started:
            if run.status == "":
                effects_error, run.error = run.error, ""
                end_fields(run.run, "succeeded", rehearsal=run.done,
                           result=run.done.result + (f" ({effects_error})" if effects_error else ""))
                run.status = "succeeded"
                entries.append(_outcome_entry(run, {"effects_error": effects_error} if effects_error else None))
            else:  # refused or failed once its intent was written (the rows moved since the rehearsal)
                end_fields(run.run, run.status, error=run.error)
                entries.append(_outcome_entry(run))
        save_runs(session, [run.run for run in started])
        for run in started:
            run.recorded = True
        if on_outcome is not None:
            on_outcome(session, runs)
        _ticket_events(session, started)
        append_many(session, entries)
        session.commit()
    except SQLAlchemyError as exc:
        log.exception("the outcomes of a batch could not be recorded; its runs stay interrupted")
        rollback(session)
        for run in started:
            run.recorded = False
            run.status = "interrupted"
        return f"the console database cannot be written ({exc.__class__.__name__}); the runs are interrupted " \
               "until reconciled"
    return ""
