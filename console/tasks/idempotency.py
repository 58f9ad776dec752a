"""Idempotency-Key: the same actor, key and request replay the first run; another request gets a 409.

A key is claimed by inserting a row under a unique (actor, key) constraint and committing
before any work, so concurrent duplicates resolve to one run: the losers wait for the
winner's run to settle and replay it. A key whose request produced no run (a 429, a 503)
is released so that the client can retry with it. A key is kept for IDEMPOTENCY_KEEP_SECONDS
(a day, as payment APIs keep theirs): the actor's older keys are deleted when they claim a new
one, so the table holds about a day of keyed requests, and an old key starts a new run.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from console.jsontext import canonical_json
from console.db import console_session, utcnow
from console.tasks.checks import CheckedRequest, TaskError
from console.tasks.models import IdempotencyKey, TaskRun

WAIT_SECONDS = 15.0
POLL_SECONDS = 0.02
# A claim that never got a run this long after it was made belongs to a request that crashed.
ABANDONED_AFTER = timedelta(minutes=2)


def keep_for() -> timedelta:
    return timedelta(seconds=current_app.config.get("IDEMPOTENCY_KEEP_SECONDS", 86400.0))


def request_hash(checked: CheckedRequest) -> str:
    """A keyed hash of the typed request, so that stored hashes reveal nothing about secrets."""
    body = canonical_json({"task": checked.spec.name, "ticket": checked.ticket, "reason": checked.reason,
                           "params": checked.params_whole})
    return hmac.new(current_app.config["SECRET_KEY"].encode(), body.encode(), hashlib.sha256).hexdigest()


def _settled_run(run_id: int) -> TaskRun | None:
    session = console_session()
    status = session.scalar(select(TaskRun.status).where(TaskRun.id == run_id))
    if status == "interrupted":
        return None
    return session.get(TaskRun, run_id, populate_existing=True)


def claim(actor: str, key: str, digest: str) -> IdempotencyKey | TaskRun:
    """Claim the key (-> the claim row) or find the run of an earlier identical request (-> that run)."""
    session = console_session()
    deadline = time.monotonic() + current_app.config.get("IDEMPOTENCY_WAIT_SECONDS", WAIT_SECONDS)
    vanished, purge = 0, True
    while True:
        now = utcnow()
        if purge:  # with the first attempt only, not on every poll while another request holds the key
            # Only this actor's keys: the (actor, key) index finds them, and no claim waits on another actor's rows.
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.actor == actor,
                                                         IdempotencyKey.created_at < now - keep_for()))
            purge = False
        row = IdempotencyKey(actor=actor, key=key, request_hash=digest, created_at=now)
        session.add(row)
        try:
            session.commit()
            return row
        except IntegrityError:
            session.rollback()
        existing = session.scalar(select(IdempotencyKey).where(IdempotencyKey.actor == actor,
                                                               IdempotencyKey.key == key))
        if existing is None:  # released meanwhile: claim it again, but never spin on a failing insert
            vanished += 1
            if vanished > 3:
                raise TaskError(503, "unavailable", "the Idempotency-Key could not be recorded; retry later")
            continue
        if not hmac.compare_digest(existing.request_hash, digest):
            raise TaskError(409, "conflict", "this Idempotency-Key was already used with a different request",
                            {"idempotency_key": "already used with a different body"})
        if existing.run_id is not None:
            run = _settled_run(existing.run_id)
            if run is not None:
                return run
            if time.monotonic() > deadline:
                return session.get(TaskRun, existing.run_id, populate_existing=True)
        elif existing.created_at < utcnow() - ABANDONED_AFTER:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id,
                                                         IdempotencyKey.run_id.is_(None)))
            session.commit()
            continue
        elif time.monotonic() > deadline:
            raise TaskError(409, "conflict", "a request with this Idempotency-Key is still in progress; retry shortly")
        session.rollback()  # end the read transaction so the next poll sees fresh rows
        time.sleep(POLL_SECONDS)


def release(row: IdempotencyKey) -> None:
    """Give up a claim whose request produced no run."""
    session = console_session()
    try:
        session.rollback()
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id, IdempotencyKey.run_id.is_(None)))
        session.commit()
    except Exception:
        session.rollback()  # the claim then expires as abandoned


def replay(run: TaskRun) -> TaskRun:
    """Answer as the first request did: the run, or the 422 of its refusal or failure."""
    if run.status in ("refused", "failed"):
        raise TaskError(422, run.status, run.error or run.status, run=run)
    if run.status == "interrupted":  # still running, or crashed: never answer as if it had succeeded
        raise TaskError(409, "conflict", f"run {run.id} with this Idempotency-Key has not finished: it is still "
                                         "running, or was interrupted and waits for a lead to reconcile it",
                        run=run)
    return run
