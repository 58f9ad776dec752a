"""What the web pages, the API and the CLI show of a task: its description, its risk, its preview.

Shared below the faces: the views, the API and the CLI import this module, never each other.
"""
from __future__ import annotations

import inspect
from datetime import date

from flask import current_app

from console.jsontext import jsonable

RISK_ORDER = {"low": 0, "medium": 1, "high": 2}


def registry():
    return current_app.extensions["task_registry"]


def find_task(name: str):
    """The enabled task called `name`, or None."""
    return registry().get(name)


def runnable_tasks(user) -> list:
    """The tasks this user may run, in catalog order."""
    return registry().for_user(user)


def headline_risk(spec) -> str:
    """A fixed risk as is; for a risk that depends on the parameters, the risk at their smallest values."""
    if isinstance(spec.risk, str):
        return spec.risk
    try:
        risk = spec.risk(smallest_params(spec))
    except Exception:  # a risk rule that cannot judge made-up values: say the worst, never crash a listing
        return "high"
    return risk if risk in RISK_ORDER else "high"


def risk_rule(spec) -> str:
    """When the risk depends on the parameters, the rule in words: the risk function's docstring."""
    if isinstance(spec.risk, str):
        return ""
    return inspect.getdoc(spec.risk) or "depends on the values"


def smallest_params(spec) -> dict:
    """Plausible low values for every parameter, taken from the JSON Schema (minimums, first choices)."""
    values = {}
    for name, schema in spec.json_schema().get("properties", {}).items():
        values[name] = sample_value(schema)
    return values


def sample_value(schema: dict):
    """A value that satisfies a simple JSON Schema property: its default, first choice or minimum."""
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        if isinstance(option, dict) and option.get("type") != "null":
            return sample_value(option)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number"):
        if "minimum" in schema:
            return schema["minimum"]
        if "exclusiveMinimum" in schema:
            return schema["exclusiveMinimum"] + 1
        return min(1, schema.get("maximum", 1))
    if kind == "boolean":
        return False
    if schema.get("format") == "email":
        return "contract-test@example.invalid"
    if schema.get("format") == "date":
        return date.today().isoformat()
    return "x" * max(1, schema.get("minLength", 1))


def describe_task(spec) -> dict:
    """A task as the API and `tasks list --json` describe it."""
    return {
        "name": spec.name,
        "title": spec.title,
        "category": spec.category,
        "risk": headline_risk(spec),
        "risk_rule": risk_rule(spec),
        "description": spec.description,
        "roles": list(spec.roles),
        "undoable": bool(spec.undo),
        "params": spec.json_schema(),
    }


def redact_params(spec, params: dict) -> dict:
    """The parameters with every Secret value replaced, as the audit shows them."""
    secret = {param.name for param in spec.params if param.is_secret} if spec else set()
    return {name: ("[redacted]" if name in secret else value) for name, value in params.items()}


def preview_to_dict(spec, result) -> dict:
    """A preview as the API answers it (the changes and the summary, plus what the page shows)."""
    return {
        "task": spec.name,
        "params": jsonable(redact_params(spec, result.params)),
        "changes": jsonable(result.changes),
        "effects": list(result.effects),
        "summary": result.summary,
        "risk": result.risk,
        "needs_approval": result.needs_approval,
        "approval_reasons": list(result.approval_reasons),
        "preview_hash": result.preview_hash,
    }
