"""The checks every run request passes first, in the runner's order: resolve and permission,
then the ticket and the reason, then the parameters.

The reason rule: trimmed; required; at most 2000 characters; newlines and tabs are kept
(a reason may be a short paragraph, with CRLF stored as LF); any other control character
is refused, because it would corrupt the audit's text and CSV exports.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any

from sqlalchemy.exc import DataError, SQLAlchemyError

from console.db import console_session, target_session
from console.deflection.ticket_refs import TicketError, clean_ref
from console.jsontext import Encoded, encode_plain
from console.permissions import role_refusal
from console.tasks.models import SOURCES, TaskRun
from console.tasks.params import ParamErrors, coerce_params, has_secrets, params_to_json
from console.tasks.policy import risk_of, run_facts
from console.tasks.registry import may_run, task_registry
from console.tasks.spec import TaskSpec, record_of, subject_from_params

log = logging.getLogger(__name__)
MAX_REASON_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 200
_REASON_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class TaskError(Exception):
    """A request that did not succeed; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None, run=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.run = run

    def __repr__(self) -> str:
        return f"TaskError({self.status}, {self.code!r}, {self.message!r})"


def database_guard(fn):
    """Turn a database failure into a TaskError (never a 500), rolling both sessions back: a value the
    database cannot store is bad input (400), anything else an outage (503)."""

    @wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SQLAlchemyError as exc:
            log.exception("%s: a database failed", fn.__name__)
            for session in (console_session(), target_session()):
                try:
                    session.rollback()
                except SQLAlchemyError:
                    pass
            if isinstance(exc, DataError):
                raise TaskError(400, "invalid", "a value in the request cannot be stored by the database (a "
                                                "number out of range, or a character it cannot hold), so "
                                                "nothing was done") from exc
            raise TaskError(503, "unavailable", f"a database is unavailable ({exc.__class__.__name__}); "
                                                "retry in a moment") from exc

    return guarded


@dataclass
class RunRequest:
    """One request to preview or run a task, from the web, the API or the CLI."""

    task: str
    params: dict[str, Any]
    ticket: str
    reason: str
    actor: Any  # a StaffUser
    idempotency_key: str | None = None
    source: str = "web"
    # The hash of the preview the person confirmed: the run stops with a 409 if the data has moved since.
    expected_preview_hash: str | None = None
    # Money typed by a person into a form is in the currency's units ("250.50"); the API and the CLI send cents.
    money_in_units: bool = False
    # The bulk (console.bulk) the run is an item of: its row and its ticket event name it (tool health).
    bulk_id: int | None = None


@dataclass(frozen=True)
class CheckedRequest:
    spec: TaskSpec
    params: dict  # typed, for the task and the policy
    ticket: str
    reason: str
    risk: str
    # What the run's row states from the parameters, derived here once: the customer and order they name,
    # and what the policy counts later (the cents moved, the address set); and whether any is a secret.
    customer: str = ""
    order_id: int | None = None
    record: str | None = None  # the record the run is on, and its key (console.tasks.spec.record_of)
    record_key: str | None = None
    amount_cents: int | None = None
    address_set: str | None = None
    has_secrets: bool | None = None  # None: not derived, asked of the spec

    # The parameters are encoded once, at the first ask: whole for the idempotency hash alone, and as the run
    # stores and the audit shows them, secrets redacted (the same text when the task has no secret parameter).
    @cached_property
    def params_whole(self) -> Encoded:
        return encode_plain(params_to_json(self.spec, self.params, redact=False))

    @cached_property
    def params_json(self) -> Encoded:
        return encode_plain(params_to_json(self.spec, self.params)) if self.secret else self.params_whole

    @property
    def secret(self) -> bool:
        """Whether a parameter of the task is a secret (never stored, never audited as typed)."""
        return has_secrets(self.spec) if self.has_secrets is None else self.has_secrets


def clean_reason(reason: Any) -> str:
    """Apply the reason rule (module docstring); raise ValueError with the message for the field."""
    if reason is not None and not isinstance(reason, str):
        raise ValueError("a reason must be text")
    text = (reason or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValueError("a reason is required")
    if len(text) > MAX_REASON_LENGTH:
        raise ValueError(f"a reason is at most {MAX_REASON_LENGTH} characters")
    if _REASON_CONTROL.search(text):
        raise ValueError("a reason may contain newlines and tabs but no other control characters")
    return text


def clean_idempotency_key(key: Any) -> str | None:
    if key is None or key == "":
        return None
    if not isinstance(key, str) or not key.strip():
        raise TaskError(400, "invalid", "the Idempotency-Key must be text",
                        {"idempotency_key": "must be text"})
    key = key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise TaskError(400, "invalid", "the Idempotency-Key is invalid",
                        {"idempotency_key": f"at most {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters"})
    return key


def resolve(name: str, user) -> TaskSpec:
    """The enabled task the user may run; 404 or 403 otherwise."""
    spec = task_registry().get(name) if isinstance(name, str) else None
    if spec is None:
        raise TaskError(404, "not_found", f"there is no task {name!r} (unknown or disabled)")
    if not may_run(user, spec):
        raise TaskError(403, "forbidden", role_refusal(getattr(user, "role", None), f"run {spec.name}"))
    return spec


def check_request(req: RunRequest) -> CheckedRequest:
    """Resolve and permit (404/403), then ticket, reason and parameters (one 400 naming every field).

    The reason, the request's own text, is read first, before the registry, the tickets and the parameters
    are asked; the verdicts are still given in that order.
    """
    if req.source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    reason, reason_error = "", {}
    try:
        reason = clean_reason(req.reason)
    except ValueError as exc:
        reason_error["reason"] = str(exc)
    spec = resolve(req.task, req.actor)
    fields: dict[str, str] = {}
    ticket = ""
    try:
        ticket = clean_ref(req.ticket)
    except TicketError as exc:
        fields["ticket"] = str(exc)
    fields.update(reason_error)
    params: dict = {}
    try:
        params = coerce_params(spec, req.params, money_in_units=req.money_in_units)
    except ParamErrors as exc:
        fields.update(exc.fields)
    if fields:
        raise TaskError(400, "invalid", "the request is invalid: " + "; ".join(
            f"{name}: {message}" for name, message in fields.items()), fields)
    risk, facts = risk_of(spec, params), run_facts(spec, params)
    if not may_run(req.actor, spec, risk):
        permission = "request high-risk runs" if risk == "high" else "run tasks"
        raise TaskError(403, "forbidden", role_refusal(req.actor.role, f"{permission} of {spec.name}"))
    customer, order_id = subject_from_params(spec, params)
    record, key = record_of(spec, params)
    return CheckedRequest(spec=spec, params=params, ticket=ticket, reason=reason, risk=risk, customer=customer,
                          order_id=order_id, record=record, record_key=key, has_secrets=has_secrets(spec), **facts)


@database_guard
def get_run(run_id) -> TaskRun:
    """The run with this id, or TaskError 404."""
    try:
        number = int(run_id)
    except (TypeError, ValueError):
        number = None
    run = console_session().get(TaskRun, number) if number is not None and 0 < number < 2**31 else None  # ids are 32-bit on PostgreSQL
    if run is None:
        raise TaskError(404, "not_found", f"there is no run {run_id}")
    return run
