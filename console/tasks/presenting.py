"""What the web pages, the API and the CLI show of a task: its description, its risk, JSON-safe values,
its parameters in words (money as `EUR 250.00`) and what a run changes, as before/after tables.

Shared below the faces: the views, the API and the CLI import this module, never each other.

Money reads in its currency's units everywhere people read it. A Money parameter states its currency;
a changed column is money when the product package declares it so (`Record(money=...)`), in the
currency it fixes or reads from the row's currency column; a change that does not carry that column
reads in the run's own currency (its Money parameters'), since a task moves one currency.
"""
from __future__ import annotations

import inspect
from datetime import date

from flask import current_app

from console.jsontext import jsonable
from console.formatting import BOOKKEEPING, Personal, customer_table, human_column, key_label, row_name, shown_value
from console.product.money import format_money
from console.tasks.schema import json_schema

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
    for name, schema in json_schema(spec).get("properties", {}).items():
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
        "params": json_schema(spec),
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


def task_title(name: str) -> str:
    """A task's title for pages that name runs; the name itself when the task is gone or turned off."""
    spec = find_task(name) if name else None
    return spec.title if spec else (name or "")


def currency_of(spec) -> str:
    """The currency of a task's Money parameters ('' for a task that moves no money)."""
    return spec.currency if spec else ""


def run_amount(run) -> str:
    """The amount a run moves, as 'EUR 120.00'; '' when it moves none (or its task is gone)."""
    currency = currency_of(find_task(run.task))
    return format_money(run.amount_cents, currency) if currency and run.amount_cents is not None else ""


def shown_params(spec, params: dict) -> list[tuple[str, object]]:
    """(label, value) pairs of a run's parameters as people read them: money in units, secrets redacted."""
    shown = []
    for param in spec.params:
        if param.name in params:
            value = "[redacted]" if param.is_secret else param.shown(params[param.name])
            shown.append((param.label, value))
    return shown


def _money_columns(table: str) -> dict:
    """column -> its Money declaration, for the product record over `table` (none without a product)."""
    product = current_app.extensions.get("product")
    for record in (product.records.values() if product else ()):
        if record.table == table:
            return record.money
    return {}


def _money_currency(money, before: dict, after: dict, currency: str) -> str:
    """A changed money column's currency: fixed, else its row's currency column, else the run's ('' unknown)."""
    if money.currency:
        return money.currency
    in_row = after.get(money.currency_column) or before.get(money.currency_column)
    return str(in_row).strip().upper() if in_row else currency


def _money_text(value, currency: str):
    return format_money(value, currency) if isinstance(value, int) and not isinstance(value, bool) else value


def change_tables(changes: list, personal: Personal | None = None, *, customer: str = "",
                  currency: str = "") -> list[dict]:
    """Each change as a before/after table: one row per column, `changed` set where the value differs.

    Every table has a `name` saying what the row is, and every row a `label` in words. `before_text` and
    `after_text` are the values in words (money as 'EUR 30.00'); with `personal`, `shown_before` and
    `shown_after` are those masked by it, times formatted. `customer` names the run's one customer row when
    the change itself does not hold the email; `currency` is the run's (see the module's docstring).
    """
    personal = personal or Personal(revealed=True)
    changes = [change for change in changes or [] if isinstance(change, dict)]
    customers = customer_table()
    one_customer = customer if customers and sum(1 for c in changes if c.get("table") == customers[0]) == 1 else ""
    tables = []
    for change in changes:
        table = change.get("table", "")
        before, after = change.get("before"), change.get("after")
        money = _money_columns(table)
        columns = list(after or {}) + [name for name in (before or {}) if name not in (after or {})]
        rows = []
        for column in columns:
            old = (before or {}).get(column)
            new = (after or {}).get(column)
            in_currency = _money_currency(money[column], before or {}, after or {}, currency) if column in money else ""
            # An amount shown in its currency's units is not labelled in cents.
            old_text, new_text, label = old, new, human_column(column, unit=not in_currency)
            if in_currency:
                old_text, new_text = _money_text(old, in_currency), _money_text(new, in_currency)
            rows.append({"column": column, "label": label, "before": old, "after": new,
                         "before_text": old_text, "after_text": new_text,
                         "shown_before": shown_value(personal.column(table, column, old_text)),
                         "shown_after": shown_value(personal.column(table, column, new_text)),
                         "changed": before is None or after is None or old != new})
        kind = "insert" if before is None else "delete" if after is None else "update"
        tables.append({"table": table, "key": key_label(change.get("key")), "kind": kind, "rows": rows,
                       "name": row_name(table, change.get("key"), before, after, personal=personal,
                                        customer=one_customer)})
    return tables


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def change_sentence(tables: list[dict], emails: int, *, done: bool) -> str:
    """What a run changes, as the end of a sentence: 'change the status and failed login count of Customer
    lo•••d@e•••.com (#1) and send 1 email' (with `done`: 'changed …, sent …'); '' when it changes nothing."""
    verbs = {"update": "changed", "insert": "added", "delete": "removed", "email": "sent"} if done else \
        {"update": "change", "insert": "add", "delete": "remove", "email": "send"}
    parts = []
    for table in tables:
        if table["kind"] == "update":
            changed = [row for row in table["rows"] if row["changed"]]
            changed = [row for row in changed if row["column"] not in BOOKKEEPING] or changed
            if changed:  # a row written back unchanged is not worth a word
                fields = _and([row["label"][:1].lower() + row["label"][1:] for row in changed])
                parts.append(f"{verbs['update']} the {fields} of {table['name']}")
        elif table["kind"] == "insert":
            name = table["name"]
            parts.append(f"{verbs['insert']} " + (f"a new {name[4:]}" if name.startswith("New ") else name))
        else:
            parts.append(f"{verbs['delete']} {table['name']}")
    if emails:
        parts.append(f"{verbs['email']} {emails} email{'' if emails == 1 else 's'}")
    return _and(parts) if parts else ""


def effect_lines(effects: list, personal: Personal) -> list[str]:
    """A run's effects in words, addresses masked: 'Email “We have refunded EUR 30.00 …” to al•••e@e•••.com'.

    The subject is what the customer reads; the template's name is the product's internal word for it.
    """
    lines = []
    for effect in effects or []:
        effect = personal.effect(effect)
        if isinstance(effect, dict) and effect.get("kind") == "email":
            what = personal.text(str(effect.get("subject") or effect.get("template", "")))
            lines.append(f"Email “{what}” to {effect.get('to', '')}")
        else:
            lines.append(personal.text(str(effect)))
    return lines
