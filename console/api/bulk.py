"""Bulk runs over JSON: request (JSON items or a CSV), read, list items, approve, reject, pause, resume, cancel."""
from __future__ import annotations

from flask import jsonify, request
from jsonschema import Draft202012Validator

from console.api.base import ApiError, api_user, bp, decision_reason, json_body, query_int, require, text_field
from console.api.describe import Query, documented
from console.api.runs import may_read_runs
from console.api.schemas import MOMENT, NULLABLE_INT, NULLABLE_TEXT, REASON, TEXT, TICKET_REF, obj, or_empty
from console.permissions import APPROVE_RUNS, RUN_TASKS, role_refusal
from console.bulk.models import BULK_STATUSES, ITEM_STATUSES
from console.bulk.service import (approve_bulk, bulk_to_dict, cancel_bulk, get_bulk, item_spec, item_to_dict,
                                  list_items, pause_bulk, reject_bulk, request_bulk, request_bulk_csv, resume_bulk)
from console.bulk.planning import check_items
from console.bulk.settings import MAX_ITEMS
from console.tasks.checks import TaskError
from console.tasks.params import MAX_INT
from console.tasks.presenting import find_task
from console.tasks.registry import may_run

MAX_ITEMS_PAGE = 1000
COUNT = {"type": "integer", "minimum": 0}
BULK = obj({
    "id": {"type": "integer"}, "task": TEXT, "status": {"enum": list(BULK_STATUSES)}, "total": COUNT,
    "done": COUNT, "succeeded": COUNT, "refused": COUNT, "failed": COUNT, "ticket": TEXT, "reason": TEXT,
    "actor": TEXT, "approved_by": NULLABLE_TEXT, "created_at": MOMENT,
    "counts": {"type": "object", "additionalProperties": COUNT, "description": "item status -> how many"},
    "amount_cents": NULLABLE_INT, "approval_reasons": TEXT, "decision_reason": TEXT,
    "finished_at": {"type": ["string", "null"]},
}, ("id", "task", "status", "total", "done", "succeeded", "refused", "failed", "ticket", "reason", "actor",
    "approved_by", "created_at"))
BULK_ANSWER = obj({"bulk": BULK})
ITEMS_ANSWER = obj({"items": {"type": "array", "items": obj({
    "index": {"type": "integer"}, "params": {"type": "object"},
    "shown": {"type": "array", "items": {"type": "array", "items": TEXT, "minItems": 2, "maxItems": 2},
              "description": "[label, text] per parameter as people read it (money in the currency's units); "
                             "empty when the task is disabled"},
    "status": {"enum": list(ITEM_STATUSES)}, "run_id": NULLABLE_INT, "error": TEXT})}})


def bulk_request(params: dict) -> dict:
    """The body of a bulk of one task: its items are that task's parameters."""
    # The limit of MAX_ITEMS is said, not declared as maxItems: test generators would send a bulk that size
    # to every task's path at each run, each checked whole and then worked through.
    return obj({"items": {"type": "array", "minItems": 1, "items": params,
                          "description": f"one object of the task's parameters per item, at most {MAX_ITEMS}"},
                "ticket": TICKET_REF, "reason": REASON})



BULK_PATH = {"bulk_id": {"type": "integer", "minimum": 1, "maximum": MAX_INT}}
DECISION = obj({"reason": REASON})
DECIDE_ERRORS = (403, 404, 409)
CSV_QUERY = (Query("ticket", {"type": "string"}, "with a text/csv body: the ticket reference"),
             Query("reason", {"type": "string"}, "with a text/csv body: why"))


def _json_types(spec, items) -> dict:
    """Each item value of the wrong JSON type, by field: the runner reads "7" and 7 alike (forms and CSVs send
    text), but a JSON body is held to the schema the document gives for the task's parameters."""
    if not isinstance(items, list):
        return {}
    validator = Draft202012Validator(spec.json_schema())
    return {f"items[{index}].{error.path[0]}": error.message for index, item in enumerate(items)
            if isinstance(item, dict) for error in validator.iter_errors(item)
            if error.validator == "type" and error.path}


def _refuse_types(name: str, items, ticket: str, reason: str, wrong: dict):
    """One 400 naming the values of the wrong type and every other bad item the runner finds."""
    fields = {}
    try:
        check_items(name, items, ticket, reason, api_user(), "api")
    except TaskError as exc:
        if exc.status != 400:
            raise
        fields = exc.fields
    fields = {**fields, **wrong}
    raise ApiError(400, "invalid", "the bulk is invalid, nothing was queued: " + "; ".join(
        f"{key}: {message}" for key, message in list(fields.items())[:20]), fields)


def _bulk(bulk_id: int):
    may_read_runs()
    return get_bulk(bulk_id)


@bp.post("/tasks/<name>/bulk")
@documented("Request a bulk: one task over many items, each an audited run", answers={202: BULK_ANSWER},
            body=bulk_request, query=CSV_QUERY, errors=(403, 404, 422), per_task=True,
            description="The body is JSON `{\"items\": [{params}, ...], \"ticket\", \"reason\"}`, or `text/csv` "
                        "with a header row of parameter names and `?ticket=&reason=`. Items are numbered from 0; "
                        "a 400 names each bad item (`items[3].order_id`), and a CSV's row and column. A bulk "
                        "needing approval is `pending_approval`; otherwise `queued`. A 503 when the queue "
                        "(CONSOLE_QUEUE_URL) cannot be reached: nothing is queued.")
def create_bulk(name: str):
    spec = find_task(name)
    if spec is None:
        raise ApiError(404, "not_found", f"no task named {name!r}")
    if not may_run(api_user(), spec):
        raise ApiError(403, "forbidden", role_refusal(api_user().role, f"run {name}"))
    if request.mimetype == "text/csv":
        bulk = request_bulk_csv(name, request.get_data(), request.args.get("ticket", ""),
                                request.args.get("reason", ""), api_user(), source="api")
        return jsonify({"bulk": bulk_to_dict(bulk)}), 202
    body = json_body()
    fields: dict = {}
    ticket, reason = text_field(body, "ticket", fields), text_field(body, "reason", fields)
    if fields:
        raise ApiError(400, "invalid", "the request has invalid fields: " + ", ".join(sorted(fields)), fields)
    wrong = _json_types(spec, body.get("items"))
    if wrong:
        _refuse_types(name, body.get("items"), ticket, reason, wrong)
    bulk = request_bulk(name, body.get("items"), ticket, reason, api_user(), source="api")
    return jsonify({"bulk": bulk_to_dict(bulk)}), 202


@bp.get("/bulk/<int:bulk_id>")
@documented("One bulk, with its progress", answers={200: BULK_ANSWER}, errors=(403, 404), path=BULK_PATH)
def read_bulk(bulk_id: int):
    return jsonify({"bulk": bulk_to_dict(_bulk(bulk_id))})


@bp.get("/bulk/<int:bulk_id>/items")
@documented("A bulk's items in order, paged", answers={200: ITEMS_ANSWER}, errors=(403, 404), path=BULK_PATH,
            query=(Query("after", or_empty({"type": "integer", "minimum": 0, "maximum": MAX_INT}),
                         "only items after this index (the next page: the last index of this one)"),
                   Query("limit", or_empty({"type": "integer", "minimum": 1, "maximum": MAX_ITEMS_PAGE}),
                         "at most this many (default 100)"),
                   Query("status", or_empty({"enum": list(ITEM_STATUSES)}), "only the items of this status")))
def read_bulk_items(bulk_id: int):
    bulk = _bulk(bulk_id)
    after = query_int("after", None, 0, MAX_INT)
    limit = query_int("limit", 100, 1, MAX_ITEMS_PAGE)
    status = request.args.get("status", "")
    if status and status not in ITEM_STATUSES:
        raise ApiError(400, "invalid", "status: not an item status", {"status": "one of " + ", ".join(ITEM_STATUSES)})
    spec = item_spec(bulk)
    return jsonify({"items": [item_to_dict(item, spec) for item in list_items(bulk, after, limit, status)]})


@bp.post("/bulk/<int:bulk_id>/approve")
@require(APPROVE_RUNS)
@documented("Approve another person's bulk for exactly its items; it is queued", answers={200: BULK_ANSWER},
            body=DECISION, errors=DECIDE_ERRORS, path=BULK_PATH)
def bulk_approve(bulk_id: int):
    get_bulk(bulk_id)
    return jsonify({"bulk": bulk_to_dict(approve_bulk(bulk_id, api_user(), decision_reason()))})


@bp.post("/bulk/<int:bulk_id>/reject")
@require(APPROVE_RUNS)
@documented("Reject another person's bulk; none of its items runs", answers={200: BULK_ANSWER}, body=DECISION,
            errors=DECIDE_ERRORS, path=BULK_PATH)
def bulk_reject(bulk_id: int):
    get_bulk(bulk_id)
    return jsonify({"bulk": bulk_to_dict(reject_bulk(bulk_id, api_user(), decision_reason()))})


@bp.post("/bulk/<int:bulk_id>/cancel")
@require(RUN_TASKS)
@documented("Cancel a bulk: items not started never run; running ones finish", answers={200: BULK_ANSWER},
            body=DECISION, errors=DECIDE_ERRORS, path=BULK_PATH,
            description="The requester, a lead or an admin may cancel.")
def bulk_cancel(bulk_id: int):
    get_bulk(bulk_id)
    return jsonify({"bulk": bulk_to_dict(cancel_bulk(bulk_id, api_user(), decision_reason()))})


@bp.post("/bulk/<int:bulk_id>/pause")
@require(RUN_TASKS)
@documented("Pause a queued or running bulk: no new item starts; running ones finish", answers={200: BULK_ANSWER},
            body=DECISION, errors=DECIDE_ERRORS, path=BULK_PATH,
            description="The requester, a lead or an admin may pause. The bulk is `paused` until resumed.")
def bulk_pause(bulk_id: int):
    get_bulk(bulk_id)
    return jsonify({"bulk": bulk_to_dict(pause_bulk(bulk_id, api_user(), decision_reason()))})


@bp.post("/bulk/<int:bulk_id>/resume")
@require(RUN_TASKS)
@documented("Resume a paused bulk: it is queued again and carries on with the items not yet run",
            answers={200: BULK_ANSWER}, body=DECISION, errors=DECIDE_ERRORS, path=BULK_PATH,
            description="The requester, a lead or an admin may resume. A 503 when the queue (CONSOLE_QUEUE_URL) "
                        "cannot be reached: the bulk stays paused.")
def bulk_resume(bulk_id: int):
    get_bulk(bulk_id)
    return jsonify({"bulk": bulk_to_dict(resume_bulk(bulk_id, api_user(), decision_reason()))})
