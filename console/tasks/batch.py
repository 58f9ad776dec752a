"""Running many runs of one requester as a batch: three commits for the lot instead of three per run.

Each run keeps everything a single run has (console.tasks.runner): the same checks, its own TaskRun row
and idempotency key, its own audit intent and outcome in the hash chain, its own ticket event; a run
that needs approval, or a task under a rate limit, is left to the runner (`single`). What a batch
shares is its transactions, in the runner's fail-closed order:

1. ONE target transaction makes every run's change, each under its own SAVEPOINT (row locks as a single
   run takes them), so a refusal or a failure rolls back that run alone. The transaction stays open.
2. ONE console transaction writes every run with its idempotency key (a duplicate key, from a worker
   that took the same item over, sinks the batch and nothing is written) and its audit entry: the
   intent of a run that made its change, the outcome of one refused or failed. The exact recount of
   the caps runs here, as for a single run; a run that now needs approval is left to the runner and the
   batch is made again without it. Only once this commit is durable does step 3 happen; if it fails,
   the target transaction is rolled back: no change without its audited intent.
3. The target transaction commits. If that fails, the runs stay `interrupted` and the same reconcile as
   single runs settles each one from the rows (nothing is applied twice, nothing silently lost).
4. The emails of the runs, in one target transaction after the commit; then ONE console transaction with
   every outcome.

The console transactions of steps 2 and 4 are console.tasks.batch_writes.

When console and target are one SQLite file, whose single write lock would make step 2 wait on step 1,
the changes are rehearsed and rolled back first, and made after the intents commit, each compared with
its rehearsal (a run whose rows moved in between is refused, as an approved run would be).

A product database lost mid-batch (the connection itself fails) ends the run it hit `failed` with
nothing written; the runs of the batch not yet made are handed back (`unrun`) and `BatchResult.stalled`
says why, so that the caller stops and resumes later.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from console.db import target_session, utcnow
from console.tasks.batch_writes import BatchRun, NeedsApprovalNow, rollback as _rollback, write_intents, write_outcomes
from console.tasks.checks import TaskError, check_request, database_guard
from console.tasks.context import ROW_LOCKS, TaskContext, write_outboxes
from console.tasks.diff import Drift, drift_message, fingerprint
from console.tasks.execution import (Rehearsal, call_task, failure_message, run_subject, separate_transactions,
                                     target_tables)
from console.tasks.policy import decide_many, rate_of
from console.tasks.prefetch import BatchReads
from console.tasks.spec import Refusal

log = logging.getLogger(__name__)
FINAL = ("succeeded", "refused", "failed")
_SAVEPOINT, _ROLLBACK_TO = "SAVEPOINT batch_run", "ROLLBACK TO SAVEPOINT batch_run"


@dataclass
class BatchResult:
    runs: list[BatchRun]
    stalled: str = ""  # why the caller should stop now (a database is unavailable); "" when it need not


class _TargetLost(Exception):
    """The product database's connection failed: its transaction is gone, with every change in it."""


@database_guard
def run_batch(runs: list[BatchRun], *, on_intent: Callable | None = None, on_outcome: Callable | None = None,
              keep_alive: Callable[[], None] | None = None) -> BatchResult:
    """Run the batch (module docstring). The requests must all come from one requester and have no earlier run
    under their keys. `on_intent(session, runs)` and `on_outcome(session, runs)` add the caller's own writes to
    the intent's and the outcome's console transactions (both see every run; `recorded` says which just ended);
    `keep_alive()` is called between the runs' changes (a worker renews its claim on them there).
    A console database that cannot be written raises TaskError 503 before any change is committed."""
    result = BatchResult(runs)
    live = _decide_all([run for run in runs if _admit(run)])
    separate = separate_transactions()
    while True:
        now = utcnow()
        try:
            made = _make_changes(live, now, keep_alive) if separate else _rehearse_all(live, now, keep_alive)
        except _TargetLost as exc:
            result.stalled = str(exc)
            _settle_lost(live)
            made = []
        try:
            write_intents(runs, now, on_intent)
            break
        except NeedsApprovalNow as exc:
            for run in exc.runs:
                run.status = "single"
            for run in live:
                _forget(run)
            live = [run for run in live if run.status != "single"]
        except IntegrityError:  # another worker wrote a run under one of these keys: the runner sorts each out
            target_session().rollback()
            for run in runs:
                if not run.recorded:
                    _forget(run)
                    run.status = "single"
            return result
    if result.stalled:
        return result
    started = [run for run in made if run.status == ""]
    if not separate:
        try:
            _make_changes(started, now, keep_alive, expected=True)
        except _TargetLost as exc:
            result.stalled = str(exc)
            target_session().rollback()
            for run in started:
                run.status = "interrupted"
            return result
    try:
        target_session().commit()
    except SQLAlchemyError as exc:
        log.exception("the target commit of a batch failed")
        _rollback(target_session())
        result.stalled = f"the product database failed at commit ({exc.__class__.__name__}); the runs are " \
                         "interrupted until reconciled"
        for run in started:
            if run.status == "":
                run.status = "interrupted"
        return result
    _queue_emails([run for run in started if run.status == ""])
    result.stalled = write_outcomes(runs, started, on_outcome)
    return result


def _admit(run: BatchRun) -> bool:
    """Check the request as the runner does; False when it is refused, or left to the runner."""
    try:
        run.checked = check_request(run.request)
    except TaskError as exc:
        run.status, run.error, run.stage = "refused", exc.message, "request"
        return False
    spec = run.checked.spec
    if rate_of(spec):  # the runner counts a rate limit exactly, one run after the other
        run.status = "single"
        return False
    return True


def _decide_all(runs: list[BatchRun]) -> list[BatchRun]:
    """Decide the admitted runs, per person and task at once (console.tasks.policy.decide_many); those that
    need approval are left to the runner. The runs that go on."""
    groups: dict[tuple[str, str], list[BatchRun]] = {}
    for run in runs:
        groups.setdefault((run.checked.spec.name, run.request.actor.email), []).append(run)
    for group in groups.values():
        decisions = decide_many(group[0].checked.spec, [(run.checked.params, run.checked.risk) for run in group],
                                group[0].request.actor)
        for run, decision in zip(group, decisions):
            run.decision = decision
            if decision.needs_approval:
                run.status = "single"
    return [run for run in runs if run.status != "single"]


def _forget(run: BatchRun) -> None:
    if run.status not in ("single", "unrun") and run.stage != "request":
        run.status, run.error, run.stage, run.done, run.expected_hash = "", "", "", None, None
    run.run = None


def _make_changes(runs: list[BatchRun], now, keep_alive: Callable | None = None, *, rehearsal: bool = False,
                  expected: bool = False) -> list[BatchRun]:
    """Make each run's change under its own savepoint of one target transaction, left open; the runs.

    `expected`: each change must hash as its rehearsal did (the runs were rehearsed before their intents)."""
    session = target_session()
    session.rollback()  # a fresh snapshot, never one left from an earlier read
    prefetched = _read_ahead(session, [run for run in runs if not run.status])
    for run in runs:
        if run.status:
            continue
        if keep_alive is not None:
            keep_alive()
        checked = run.checked
        ctx = TaskContext(session, target_tables(), actor=run.request.actor.email, ticket=checked.ticket,
                          reason=checked.reason, params=checked.params, now=now, is_preview=rehearsal,
                          prefetched=prefetched)
        try:
            # Never released: each stays open under the next (one statement per run, not two). All share one
            # name: ROLLBACK TO names the newest savepoint of that name (PostgreSQL, SQLite; MySQL keeps only
            # the newest), the run's own, which undoes that run alone. One text, so the driver parses it once.
            session.connection().exec_driver_sql(_SAVEPOINT)
        except SQLAlchemyError as exc:
            _rollback(session)
            raise _TargetLost(f"the product database is unavailable ({exc.__class__.__name__})") from exc
        stage = "" if expected else "preview"
        try:
            result = call_task(checked.spec.fn, ctx, checked.params)
            if expected and fingerprint(ctx.changes, ctx.effects, now) != run.expected_hash:
                raise Drift(ctx.changes)
            customer, order_id = run_subject(checked.spec, checked.params, ctx)
        except (Refusal, Drift) as exc:
            run.status, run.stage = "refused", stage
            run.error = drift_message(run.done.changes, exc.changes, now) if isinstance(exc, Drift) else exc.message
            _undo(session, exc)
            continue
        except Exception as exc:
            log.exception("task %s failed in a batch", checked.spec.name)
            run.status, run.error, run.stage = "failed", failure_message(exc), stage
            _undo(session, exc)
            continue
        run.done = Rehearsal(changes=ctx.changes, effects=ctx.effects, effect_lines=ctx.effect_lines(), result=result,
                             customer=customer, order_id=order_id, context=ctx, redact_before=checked.spec.redact_before)
    return runs


def _read_ahead(session, runs: list[BatchRun]) -> BatchReads | None:
    """The rows the runs' tasks read for all of them at once (their `batch_reads`), or None when none does.

    Only a speed-up: a hook that fails is logged and its reads dropped (its locks with them, nothing was
    written yet), and every run reads for itself as it would without one."""
    groups: dict[str, list[BatchRun]] = {}
    for run in runs:
        if run.checked.spec.batch_reads is not None:
            groups.setdefault(run.checked.spec.name, []).append(run)
    if not groups:
        return None
    tables = target_tables()
    try:
        reads = BatchReads(session, tables, locks=session.get_bind().dialect.name in ROW_LOCKS)
        for group in groups.values():
            group[0].checked.spec.batch_reads(reads, [run.checked.params for run in group])
        return reads
    except Exception:
        log.exception("batch_reads of a batch failed; each run reads its own rows")
        _rollback(session)
        return None


def _undo(session, exc: Exception) -> None:
    """Roll back to the run's savepoint; a connection that cannot even do that is lost, and the transaction with it."""
    try:
        session.connection().exec_driver_sql(_ROLLBACK_TO)
    except SQLAlchemyError as lost:
        _rollback(session)
        raise _TargetLost(f"the product database is unavailable ({exc.__class__.__name__})") from lost


def _rehearse_all(runs: list[BatchRun], now, keep_alive: Callable | None) -> list[BatchRun]:
    _make_changes(runs, now, keep_alive, rehearsal=True)
    target_session().rollback()
    for run in runs:
        if run.status == "" and run.done is not None:
            run.expected_hash = fingerprint(run.done.changes, run.done.effects, now)
    return runs


def _settle_lost(runs: list[BatchRun]) -> None:
    """The run the lost connection hit has failed (nothing of it was written); the changes made before it
    were lost with the transaction, and those runs, like the ones not reached, go back to the caller."""
    for run in runs:
        if run.status == "":
            run.status, run.done = "unrun", None


def _queue_emails(runs: list[BatchRun]) -> None:
    """The committed runs' emails, in one target transaction; a failure is noted on each run, as `run_effects`."""
    with_emails = [run for run in runs if run.done.effects]
    if not with_emails:
        return
    session = target_session()
    try:
        write_outboxes([run.done.context for run in with_emails])
        session.commit()
    except Exception as exc:
        _rollback(session)
        log.exception("after-commit effects of a batch failed")
        for run in with_emails:
            run.error = "the change was committed but its emails could not be queued: " + failure_message(exc)


