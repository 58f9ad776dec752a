"""A task's parameters described for others: the API's JSON Schema and the web page's WTForms form.

The API keeps Money in whole minor units (cents), so its schema is an integer; the form takes the
currency's units (`250.50`) in a text box with the currency beside it (`render_kw["data-currency"]`).
"""
from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from wtforms import Form, fields, validators
from wtforms.fields.choices import SelectChoice

from console.product.money import units_text
from console.jsontext import jsonable
from console.tasks.params import CONTROL_CHARS, MAX_INT, MAX_MONEY, MAX_TEXT, ParamSpec

# The same rule as coerce_params: no control characters, and for a required value something besides blanks.
_ANY_TEXT = f"^[^{CONTROL_CHARS}]*$"
_SOME_TEXT = rf"^[^{CONTROL_CHARS}]*[^\s{CONTROL_CHARS}][^{CONTROL_CHARS}]*$"
# Without inline flags, which JSON Schema's regular expressions (ECMA-262) lack: [tT][eE][sS][tT].
_SPECIAL_USE_DOMAIN = "[@.](?:" + "|".join("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c)
                                                   for c in name) for name in SPECIAL_USE_DOMAIN_NAMES) + r")\.?$"


def _property(p: ParamSpec) -> dict:
    prop: dict = {"title": p.label, "x-console-type": p.kind}
    if p.help:
        prop["description"] = p.help
    if p.kind in ("str", "secret", "email"):
        prop["type"] = "string"
        prop["maxLength"] = p.max_length or (254 if p.kind == "email" else MAX_TEXT)
        if p.pattern:
            prop["pattern"] = f"^(?:{p.pattern})$"
        else:
            prop["pattern"] = _SOME_TEXT if p.required else _ANY_TEXT
            if p.required:
                prop["minLength"] = 1
        if p.kind == "email":
            prop["format"] = "email"
            # email_validator refuses special-use domains (.test, .invalid, ...): say so in the schema.
            prop["not"] = {"pattern": _SPECIAL_USE_DOMAIN}
        if p.kind == "secret":
            prop["format"] = "password"
            prop["writeOnly"] = True
    elif p.kind in ("int", "money"):
        prop["type"] = "integer"
        low = 0 if p.kind == "money" else -MAX_INT
        high = MAX_MONEY if p.kind == "money" else MAX_INT
        prop["minimum"] = max(low, p.min) if p.min is not None else low
        prop["maximum"] = min(high, p.max) if p.max is not None else high
        if p.kind == "money":  # an integer of minor units; clients show it in the currency's units
            prop["x-currency"] = p.currency
    elif p.kind == "bool":
        prop["type"] = "boolean"
    elif p.kind == "date":
        prop["type"] = "string"
        prop["format"] = "date"
        if p.min is not None:
            prop["x-minimum"] = p.min.isoformat()
        if p.max is not None:
            prop["x-maximum"] = p.max.isoformat()
    elif p.kind == "choice":
        values = [jsonable(choice) for choice in p.choices]
        prop["enum"] = values
        prop["type"] = "integer" if all(isinstance(v, int) for v in values) else "string"
    if not p.required and p.default is not None and not p.is_secret:
        prop["default"] = jsonable(p.default)
    return prop


def json_schema(spec) -> dict:
    """A task spec's parameters as a JSON Schema (draft 2020-12) object."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": spec.title,
        "type": "object",
        "properties": {p.name: _property(p) for p in spec.params},
        "required": [p.name for p in spec.params if p.required],
        # JSON objects have no order, and the API's answers sort their keys: the declared order (the form's)
        # travels as a list.
        "x-console-order": [p.name for p in spec.params],
        "additionalProperties": False,
    }


def _field(p: ParamSpec):
    checks = [validators.InputRequired() if p.required else validators.Optional()]
    default, render_kw = p.default, {}
    if p.kind in ("str", "secret", "email"):
        checks.append(validators.Length(max=p.max_length or (254 if p.kind == "email" else MAX_TEXT)))
        if p.pattern:
            checks.append(validators.Regexp(f"^(?:{p.pattern})$", message=f"must match {p.pattern}"))
        cls = {"str": fields.StringField, "secret": fields.PasswordField, "email": fields.EmailField}[p.kind]
        if p.kind == "secret":
            default = None
    elif p.kind == "money":
        # Text, not a number box: "250.50" in units, read by coerce_params(money_in_units=True), which names
        # the field in every error (too many decimals, a negative amount, junk).
        cls, default = fields.StringField, units_text(default, p.currency) or None
        render_kw = {"inputmode": "decimal", "autocomplete": "off", "placeholder": units_text(0, p.currency),
                     "data-currency": p.currency}
    elif p.kind == "int":
        checks.append(validators.NumberRange(min=p.min, max=p.max))
        cls = fields.IntegerField
    elif p.kind == "bool":
        checks = [validators.Optional()]
        cls = fields.BooleanField
    elif p.kind == "date":
        cls = fields.DateField
    else:
        pairs = ([] if p.required else [("", "—")]) + p.choice_pairs()
        return fields.SelectField(p.label, choices=[SelectChoice(value, label) for value, label in pairs],
                                  default=None if default is None else str(jsonable(default)), validators=checks,
                                  description=p.help)
    return cls(p.label, validators=checks, default=default, description=p.help, render_kw=render_kw or None)


def form_class(spec, base=None):
    """A WTForms form class with one field per parameter of a task spec (pass `base=FlaskForm` for CSRF)."""
    attributes = {p.name: _field(p) for p in spec.params}
    return type(f"{spec.name.title().replace('_', '')}Form", (base or Form,), attributes)
