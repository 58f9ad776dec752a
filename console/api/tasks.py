"""Tasks over JSON: list, preview and run. Every call goes through the runner."""
from __future__ import annotations

from flask import jsonify, request

from console.api.base import ApiError, api_user, bp, json_body, text_field
from console.tasks.disclosure import masked_run, shown_preview
from console.api.describe import Query, documented
from console.tasks.checks import MAX_IDEMPOTENCY_KEY_LENGTH
from console.tasks.registry import may_run
from console.tasks.runner import RunRequest, TaskError, preview, run_to_dict, start_run
from console.jsontext import jsonable
from console.permissions import role_refusal
from console.tasks.presenting import describe_task, find_task, preview_to_dict, runnable_tasks


IDEMPOTENCY_KEY = Query("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
                                             "pattern": "^[ -~]*[!-~][ -~]*$"},
                        "a repeat with the same key and body replays the first answer; another body gets a 409")
RUN_LINKS = {name: (target, {"run_id": "$response.body#/run/id"}) for name, target in (
    ("GetRun", "get_run"), ("Approve", "approve"), ("Reject", "reject"), ("Undo", "undo"))}


def run_body(run) -> dict:
    """RUN as the API answers it to anyone: the product's personal data masked."""
    return masked_run(jsonable(run_to_dict(run)), find_task(run.task))[0]


@bp.errorhandler(TaskError)
def _task_error(exc: TaskError):
    """The runner's refusals and errors in the API's error format; a refused or failed run comes along."""
    if exc.run is None:
        return jsonify({"error": {"code": exc.code, "message": exc.message, "fields": exc.fields or {}}}), exc.status
    # The message repeats the run's error: it is masked as the run is, or the run's masks would be for nothing.
    run, personal = masked_run(jsonable(run_to_dict(exc.run)), find_task(exc.run.task))
    return jsonify({"error": {"code": exc.code, "message": personal.text(exc.message), "fields": exc.fields or {}},
                    "run": run}), exc.status


def _run_request(name: str) -> RunRequest:
    """Parse the body in the runner's order: the task and the caller's right to it first, then the input."""
    spec = find_task(name)
    if spec is None:
        raise ApiError(404, "not_found", f"no task named {name!r}")
    if not may_run(api_user(), spec):
        raise ApiError(403, "forbidden", role_refusal(api_user().role, f"run {name}"))
    body = json_body()
    fields: dict = {}
    params = body.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        fields["params"] = "must be an object of parameter values, e.g. {\"order_id\": 1004}"
        params = {}
    ticket = text_field(body, "ticket", fields)
    reason = text_field(body, "reason", fields)
    if fields:
        raise ApiError(400, "invalid", "the request has invalid fields: " + ", ".join(sorted(fields)), fields)
    return RunRequest(task=name, params=params, ticket=ticket, reason=reason, actor=api_user(),
                      idempotency_key=request.headers.get("Idempotency-Key") or None, source="api")


@bp.get("/tasks")
@documented("The tasks the caller may run", answers={200: "TaskList"})
def list_tasks():
    """The tasks the caller may run, each with its JSON Schema."""
    return jsonify({"tasks": [describe_task(spec) for spec in runnable_tasks(api_user())]})


@bp.get("/tasks/<name>")
@documented("One task, with its parameters' JSON Schema", answers={200: "TaskAnswer"}, errors=(403, 404))
def get_task(name: str):
    spec = find_task(name)
    if spec is None:
        raise ApiError(404, "not_found", f"no task named {name!r}")
    if not may_run(api_user(), spec):
        raise ApiError(403, "forbidden", role_refusal(api_user().role, f"run {name}"))
    return jsonify({"task": describe_task(spec)})


@bp.post("/tasks/<name>/preview")
@documented("Preview a run: the exact changes, written nowhere", answers={200: "Preview"}, body="RunRequest",
            errors=(403, 404, 409, 422, 429), per_task=True)
def preview_task(name: str):
    """What the run would change; writes nothing."""
    result = preview(_run_request(name))
    spec = find_task(name)
    return jsonify(preview_to_dict(spec, shown_preview(spec, result)))


@bp.post("/tasks/<name>/runs")
@documented("Run a task, or request it when it needs approval", answers={201: "RunAnswer"}, body="RunRequest",
            errors=(403, 404, 409, 422, 429), per_task=True, headers=(IDEMPOTENCY_KEY,), links={201: RUN_LINKS},
            description="`run.status` is `succeeded` or `pending_approval`. A run that cannot apply is recorded "
                        "as `refused` and answered with a 422 that carries it.")
def create_run(name: str):
    """Run the task (or ask for approval); 201 with the run, 422 with the run when refused."""
    run = start_run(_run_request(name))
    if run.status in ("refused", "failed"):  # a replayed refusal answers as the first one did
        body = run_body(run)
        return jsonify({"error": {"code": run.status, "message": body["error"] or run.status, "fields": {}},
                        "run": body}), 422
    return jsonify({"run": run_body(run)}), 201
