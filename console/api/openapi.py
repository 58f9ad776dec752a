"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, built with apispec from the routes' own declarations.

Paths, methods and path parameters come from the app's URL map; each route's `@documented` declaration
gives its answers; each task's parameters come from its plugin, so a new task (or a new route) is in the
document without an edit here. A route under /api/v1 without a declaration fails the build.
"""
from __future__ import annotations

import re

from apispec import APISpec
from flask import Flask, current_app, jsonify

from console.api.base import bp
from console.api.describe import Operation, described, documented
from console.api.schemas import SCHEMAS, ref
from console.permissions import ROLE_PERMISSIONS
from console.tasks.registry import task_registry

TITLE = "Support Console API"
VERSION = "1"
STATUS_TEXT = {
    400: "Invalid input: `fields` names each bad field",
    401: "No bearer token, or an unknown, revoked or disabled user's token",
    403: "The caller's role may not do this",
    404: "No such thing",
    409: "The request conflicts with the current state (or with an earlier request's Idempotency-Key)",
    422: "The request is well formed but cannot apply; a refused run comes along as `run`",
    429: "Too many requests: a rate limit of the caller's role",
    503: "A database is unavailable (or the audit trail cannot be written); nothing was done",
}
ALWAYS = (401, 503)
_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_PARAM_SCHEMA = {"int": {"type": "integer", "minimum": 0}, "path": {"type": "string", "minLength": 1}}
DESCRIPTION = """The JSON API of Support Console. Send `Authorization: Bearer <token>` (from
`support-console tokens create EMAIL` or the Tokens page); a browser session works too, with its
CSRF token in `X-CSRFToken` for writes. Every error is `{"error": {"code", "message", "fields"}}`.
Tasks have one path each for preview and runs, with the task's own parameter schema."""


class UndocumentedRoute(Exception):
    """An /api/v1 route with no `@documented` declaration."""


def openapi_document(app: Flask | None = None) -> dict:
    """The document for this app, built once per app (routes and tasks are fixed once it serves)."""
    app = app or current_app._get_current_object()
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_document(app)
    return app.extensions["openapi"]


def openapi_path(rule: str) -> str:
    """A Werkzeug rule as an OpenAPI path: /runs/<int:run_id> -> /runs/{run_id}."""
    return _CONVERTER.sub(lambda match: "{" + match.group(2) + "}", rule)


def task_path(rule: str, task: str) -> str:
    """The path of a per-task route for one task: /tasks/<name>/runs -> /tasks/refund_order/runs."""
    return openapi_path(rule.replace("<name>", task))


def api_rules(app: Flask):
    """The /api/v1 rules and their methods, in URL-map order (HEAD and OPTIONS are Flask's own)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(bp.name + "."):
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def build_document(app: Flask) -> dict:
    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.1.0",
                   info={"description": DESCRIPTION}, security=[{"bearerAuth": []}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "an API token: `support-console tokens create`"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for status, text in STATUS_TEXT.items():
        spec.components.response(str(status), {"description": text,
                                               "content": {"application/json": {"schema": ref("Error")}}})
    paths: dict[str, dict] = {}
    tasks = list(task_registry(app))
    for rule, methods in api_rules(app):
        view = app.view_functions[rule.endpoint]
        declared = described(view)
        if declared is None:
            raise UndocumentedRoute(f"{rule.rule} ({rule.endpoint}) has no @documented declaration")
        for method in methods:
            operation_id = rule.endpoint.split(".", 1)[1]
            if not declared.per_task:
                paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = _operation(
                    app, rule, view, declared, operation_id)
                continue
            # The body depends on the task: one path per task (a template would pair any name with any body).
            for task in tasks:
                paths.setdefault(task_path(rule.rule, task.name), {})[method.lower()] = _task_operation(
                    app, rule, view, declared, f"{operation_id}_{task.name}", task)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _needs(permission: str | tuple[str, ...]) -> str:
    """The permission a route checks (or any of several) in words, with the roles that hold it."""
    permissions = (permission,) if isinstance(permission, str) else tuple(permission)
    roles = [role for role, granted in ROLE_PERMISSIONS.items() if granted & set(permissions)]
    named = " or ".join(f"`{name}`" for name in permissions)
    return f"Needs the permission {named} (roles: {', '.join(roles)})."


def _operation(app, rule, view, declared: Operation, operation_id: str, *, task=None) -> dict:
    permission = getattr(view, "required_permission", None)
    statuses = set(declared.errors) | set(ALWAYS)
    if permission:
        statuses.add(403)
    if declared.body or declared.query or declared.headers:
        statuses.add(400)
    description = declared.description
    if permission:
        description = (description + "\n\n" if description else "") + _needs(permission)
    responses = {str(status): _answer(schema, declared.links.get(status)) for status, schema in
                 declared.answers.items()}
    responses.update({str(status): {"$ref": f"#/components/responses/{status}"} for status in sorted(statuses)})
    operation = {"operationId": operation_id, "summary": declared.summary, "tags": [_tag(rule.rule)],
                 "parameters": _path_parameters(app, rule, declared.path, skip={"name"} if task else set())
                 + [_parameter("query", item) for item in declared.query]
                 + [_parameter("header", item) for item in declared.headers],
                 "responses": responses}
    if description:
        operation["description"] = description
    if declared.body and not callable(declared.body):
        body = ref(declared.body) if isinstance(declared.body, str) else declared.body
        operation["requestBody"] = {"required": declared.body_required,
                                    "content": {"application/json": {"schema": body}}}
    return operation


def _task_operation(app, rule, view, declared: Operation, operation_id: str, task) -> dict:
    """The operation for one task: its parameters' schema in the body, its roles and risk in the description."""
    operation = _operation(app, rule, view, declared, operation_id, task=task)
    params = {key: value for key, value in task.json_schema().items() if key != "$schema"}
    operation["summary"] = f"{declared.summary}: {task.title}"
    operation["tags"] = ["task " + task.name]
    operation["description"] = (f"{task.description or task.title}\n\nRisk: {task.risk_label}. "
                                f"Roles: {', '.join(task.roles)}.")
    # A declared body that is a function of the task's parameter schema (a bulk's items) replaces the run request.
    body = declared.body(params) if callable(declared.body) else {
        "allOf": [ref("RunRequest"), {"type": "object", "properties": {"params": params}, "required": ["params"]}]}
    operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _answer(schema, links: dict | None) -> dict:
    answer = {"description": "OK", "content": {"application/json": {
        "schema": ref(schema) if isinstance(schema, str) else schema}}}
    if links:
        answer["links"] = {name: {"operationId": target, "parameters": parameters}
                           for name, (target, parameters) in links.items()}
    return answer


def _tag(rule: str) -> str:
    return rule.removeprefix(bp.url_prefix).strip("/").split("/")[0] or "api"


def _path_parameters(app, rule, declared: dict, skip: set[str]) -> list[dict]:
    parameters = []
    for converter, name in _CONVERTER.findall(rule.rule):
        if name not in skip:
            schema = declared.get(name)
            if callable(schema):  # it depends on the app, such as the product package's record names
                schema = schema(app)
            schema = schema or _PARAM_SCHEMA.get(converter, {"type": "string", "minLength": 1,
                                                                         "pattern": "^[^/]+$"})
            parameters.append({"in": "path", "name": name, "required": True, "schema": dict(schema)})
    return parameters


def _parameter(location: str, item) -> dict:
    parameter = {"in": location, "name": item.name, "required": item.required, "schema": item.schema}
    if item.description:
        parameter["description"] = item.description
    return parameter


@bp.get("/openapi.json")
@documented("This OpenAPI 3.1 document", answers={200: {"type": "object", "required": ["openapi", "paths"]}})
def openapi_json():
    """This document; any valid token (or a logged-in browser) may read it."""
    return jsonify(openapi_document())
