"""Task runs over JSON: read, list, approve, reject, undo and reconcile."""
from __future__ import annotations

from flask import jsonify, request
from console.api.base import ApiError, api_user, bp, decision_reason, optional_body, query_int, require, text_field
from console.api.describe import Query, documented
from console.api.schemas import RUN_ID, or_empty
from console.api.tasks import run_body
from console.db import console_session
from console.permissions import APPROVE_RUNS, READ_AUDIT, RUN_TASKS, UNDO_RUNS, role_refusal, user_can
from console.tasks.models import STATUSES, TaskRun
from console.tasks.params import MAX_INT
from console.tasks.runner import approve_run, reconcile_run, reject_run, run_history, undo_run

MAX_LIMIT = 200
LIST_FILTERS = ("ticket", "customer", "task", "status", "actor", "record", "record_key")
# Every filter given empty (`?status=`) is no filter; a status must be one a run can have.
FILTER_SCHEMAS = {"status": or_empty({"enum": list(STATUSES)})}
LIST_QUERY = (
    *(Query(name, FILTER_SCHEMAS.get(name, {"type": "string"}), f"only runs whose {name} is exactly this; "
            "empty: no filter") for name in LIST_FILTERS),
    Query("order", or_empty({"type": "integer", "minimum": 0, "maximum": MAX_INT}), "only runs on this order"),
    Query("before", or_empty(RUN_ID), "only runs with a smaller id (the next page: the last id of this one)"),
    Query("limit", or_empty({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}), "at most this many (default 50)"),
)
DECIDE_ERRORS = (403, 404, 409, 422)


def may_read_runs() -> None:
    """A 403 unless the caller may read task runs (bulk items are runs too)."""
    if not (user_can(api_user(), RUN_TASKS) or user_can(api_user(), READ_AUDIT)):
        raise ApiError(403, "forbidden", role_refusal(api_user().role, "read task runs"))


def _run(run_id: int) -> TaskRun:
    # Beyond a 32-bit id nothing can exist, and PostgreSQL would refuse to compare it with the column.
    run = console_session().get(TaskRun, run_id) if 0 < run_id <= MAX_INT else None
    if run is None:
        raise ApiError(404, "not_found", f"no run {run_id}")
    return run


@bp.get("/runs")
@documented("Runs, newest first, filtered and paged", answers={200: "RunList"}, errors=(403,), query=LIST_QUERY)
def list_runs():
    """Runs, newest first; filter by ticket, customer, task, status, actor, order, record or record_key; page with
    ?before=<id>."""
    may_read_runs()
    limit = query_int("limit", 50, 1, MAX_LIMIT)
    before = query_int("before", None, 1, MAX_INT)
    order_id = query_int("order", None, 0, MAX_INT)
    filters = {name: request.args.get(name)[:254] for name in LIST_FILTERS if request.args.get(name)}
    for name, value in filters.items():
        if "\x00" in value:  # no stored value holds one, and PostgreSQL refuses it in a query
            raise ApiError(400, "invalid", f"{name} must not contain a NUL character", {name: "NUL character"})
    if filters.get("status") and filters["status"] not in STATUSES:
        raise ApiError(400, "invalid", f"status must be one of: {', '.join(STATUSES)}",
                       {"status": f"expected one of: {', '.join(STATUSES)}"})
    runs = run_history(**filters, order_id=order_id, before=before, limit=limit)
    return jsonify({"runs": [run_body(run) for run in runs]})


@bp.get("/runs/<int:run_id>")
@documented("One run", answers={200: "RunAnswer"}, errors=(403, 404))
def get_run(run_id: int):
    may_read_runs()
    return jsonify({"run": run_body(_run(run_id))})


@bp.post("/runs/<int:run_id>/approve")
@require(APPROVE_RUNS)
@documented("Approve another person's pending run; it executes now", answers={200: "RunAnswer"},
            body="Decision", errors=DECIDE_ERRORS,
            description="A run that is not `pending_approval` gets a 409; approving one's own run a 403.")
def approve(run_id: int):
    """Approve another person's pending run; it executes now."""
    _run(run_id)
    return jsonify({"run": run_body(approve_run(run_id, api_user(), decision_reason()))})


@bp.post("/runs/<int:run_id>/reject")
@require(APPROVE_RUNS)
@documented("Reject another person's pending run", answers={200: "RunAnswer"}, body="Decision",
            errors=DECIDE_ERRORS)
def reject(run_id: int):
    _run(run_id)
    return jsonify({"run": run_body(reject_run(run_id, api_user(), decision_reason()))})


@bp.post("/runs/<int:run_id>/undo")
@require(UNDO_RUNS)
@documented("Undo a succeeded run with a new, audited run", answers={201: "RunAnswer"}, body="UndoRequest",
            errors=DECIDE_ERRORS + (429,))
def undo(run_id: int):
    """Undo a succeeded run with a new, audited run; the ticket defaults to the original's."""
    original = _run(run_id)
    body = optional_body()
    fields: dict = {}
    ticket = text_field(body, "ticket", fields) or original.ticket
    reason = text_field(body, "reason", fields)
    if fields:
        raise ApiError(400, "invalid", "the request has invalid fields: " + ", ".join(sorted(fields)), fields)
    return jsonify({"run": run_body(undo_run(run_id, api_user(), ticket, reason, source="api"))}), 201


@bp.post("/runs/<int:run_id>/reconcile")
@require(UNDO_RUNS)
@documented("Settle an interrupted run", answers={200: "RunAnswer"}, body="ReconcileRequest", body_required=False,
            errors=DECIDE_ERRORS)
def reconcile(run_id: int):
    """Settle an interrupted run from the target rows, or by hand with {"settle_as": "succeeded"|"failed"}."""
    _run(run_id)
    body = optional_body()
    fields: dict = {}
    settle_as = text_field(body, "settle_as", fields) or None
    reason = text_field(body, "reason", fields) or None
    if fields:
        raise ApiError(400, "invalid", "the request has invalid fields: " + ", ".join(sorted(fields)), fields)
    return jsonify({"run": run_body(reconcile_run(run_id, api_user(), settle_as=settle_as, reason=reason))})
