"""Task parameters: coercing raw input to typed values, and the WTForms form and JSON Schema.

Raw values come as strings (web forms, the CLI) or as JSON types (the API); both go
through `coerce_params`, which names every bad field.
"""
from __future__ import annotations

import enum
import re
from datetime import date, datetime
from typing import Any, Mapping

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from console.jsontext import REDACTED, jsonable
from console.tasks.spec import RESERVED_NAMES, ParamSpec, TaskSpec

# Whole numbers are compared with 32-bit integer columns (ids): on PostgreSQL a bigger value is an
# "integer out of range" error, not a row that is not found.
MAX_INT = 2**31 - 1
# Amounts land in 32-bit integer columns on PostgreSQL; a bigger value is a typo, not a refund.
MAX_MONEY = 2**31 - 1
MAX_TEXT = 10_000
_CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
_INTEGER = re.compile(r"^[+-]?\d+$")
# The same rule for the JSON Schema: no control characters, and for a required value something besides blanks.
_ANY_TEXT = f"^[^{_CONTROL_CHARS}]*$"
_SOME_TEXT = rf"^[^{_CONTROL_CHARS}]*[^\s{_CONTROL_CHARS}][^{_CONTROL_CHARS}]*$"
# Without inline flags, which JSON Schema's regular expressions (ECMA-262) lack: [tT][eE][sS][tT].
_SPECIAL_USE_DOMAIN = "[@.](?:" + "|".join("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c)
                                                   for c in name) for name in SPECIAL_USE_DOMAIN_NAMES) + r")\.?$"
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class ParamErrors(Exception):
    """Invalid parameters; `fields` maps each parameter name to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = fields


class _Invalid(Exception):
    pass


def _missing(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(p: ParamSpec, value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Invalid("expected text")
    if p.kind != "secret":
        value = value.strip()
    if _CONTROL.search(value):
        raise _Invalid("cannot contain control characters")
    limit = p.max_length or MAX_TEXT
    if len(value) > limit:
        raise _Invalid(f"must be at most {limit} characters")
    if p.pattern and not re.fullmatch(p.pattern, value):
        raise _Invalid(f"does not have the expected format ({p.pattern})")
    return value


def _whole_number(value) -> int:
    if isinstance(value, bool):
        raise _Invalid("expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise _Invalid("expected a whole number")


def _in_range(p: ParamSpec, value, shown=str):
    if p.min is not None and value < p.min:
        raise _Invalid(f"must be at least {shown(p.min)}")
    if p.max is not None and value > p.max:
        raise _Invalid(f"must be at most {shown(p.max)}")
    return value


def _integer(p: ParamSpec, value) -> int:
    number = _whole_number(value)
    if abs(number) > MAX_INT:
        raise _Invalid("is too large")
    return _in_range(p, number)


def _money(p: ParamSpec, value) -> int:
    cents = _whole_number(value)
    if cents < 0:
        raise _Invalid("an amount in cents cannot be negative")
    if cents > MAX_MONEY:
        raise _Invalid(f"must be at most {MAX_MONEY} cents")
    return _in_range(p, cents)


def _boolean(p: ParamSpec, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid("expected true or false")


def _date(p: ParamSpec, value) -> date:
    if isinstance(value, datetime):
        raise _Invalid("expected a date (YYYY-MM-DD), not a date and time")
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise _Invalid("expected a date (YYYY-MM-DD)") from None
    return _in_range(p, value, shown=lambda d: d.isoformat())


def _choice(p: ParamSpec, value):
    for choice in p.choices:
        if value is choice or (not isinstance(value, bool) and value == choice):
            return choice
        submitted = choice.value if isinstance(choice, enum.Enum) else choice
        if str(value).strip() == str(submitted) or (isinstance(choice, enum.Enum) and value == choice.name):
            return choice
    allowed = ", ".join(value for value, _label in p.choice_pairs())
    raise _Invalid(f"must be one of: {allowed}")


def _email(p: ParamSpec, value) -> str:
    text = _text(p, value)
    try:
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise _Invalid(f"is not a valid email address ({exc})") from None
    address = address.lower()
    if len(address) > (p.max_length or 254):
        raise _Invalid(f"must be at most {p.max_length or 254} characters")
    return address


_COERCE = {"str": _text, "secret": _text, "email": _email, "int": _integer, "money": _money, "bool": _boolean,
           "date": _date, "choice": _choice}


def coerce_params(spec: TaskSpec, raw: Mapping[str, Any] | None) -> dict:
    """Validate and type the raw parameters; raise ParamErrors naming each bad field."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ParamErrors({"params": "expected an object of parameter values"})
    typed, errors = {}, {}
    for p in spec.params:
        value = raw.get(p.name)
        if _missing(value) and not (p.kind == "secret" and value):
            if p.required:
                errors[p.name] = f"{p.label} is required"
            else:
                typed[p.name] = p.default
            continue
        try:
            typed[p.name] = _COERCE[p.kind](p, value)
        except _Invalid as exc:
            errors[p.name] = f"{p.label} {exc}"
    known = {p.name for p in spec.params} | RESERVED_NAMES
    for name in raw:
        if name not in known:
            errors[str(name)[:100]] = f"unknown parameter; {spec.name} takes: " + (
                ", ".join(p.name for p in spec.params) or "no parameters")
    if errors:
        raise ParamErrors(errors)
    return typed


def params_to_json(spec: TaskSpec, typed: dict, *, redact: bool = True) -> dict:
    """The parameters as JSON values, with secrets replaced by "[redacted]" unless told otherwise."""
    out = {}
    for p in spec.params:
        if p.name not in typed:
            continue
        value = typed[p.name]
        out[p.name] = REDACTED if (redact and p.is_secret and value not in (None, "")) else jsonable(value)
    return out


def has_secrets(spec: TaskSpec) -> bool:
    return any(p.is_secret for p in spec.params)


# ---- JSON Schema ---------------------------------------------------------------------------

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


def json_schema(spec: TaskSpec) -> dict:
    """The task's parameters as a JSON Schema (draft 2020-12) object."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": spec.title,
        "type": "object",
        "properties": {p.name: _property(p) for p in spec.params},
        "required": [p.name for p in spec.params if p.required],
        "additionalProperties": False,
    }


# ---- WTForms -------------------------------------------------------------------------------

def _field(p: ParamSpec):
    from wtforms import fields, validators

    checks = [validators.InputRequired() if p.required else validators.Optional()]
    default = p.default
    if p.kind in ("str", "secret", "email"):
        checks.append(validators.Length(max=p.max_length or (254 if p.kind == "email" else MAX_TEXT)))
        if p.pattern:
            checks.append(validators.Regexp(f"^(?:{p.pattern})$", message=f"must match {p.pattern}"))
        cls = {"str": fields.StringField, "secret": fields.PasswordField, "email": fields.EmailField}[p.kind]
        if p.kind == "secret":
            default = None
    elif p.kind in ("int", "money"):
        low = 0 if p.kind == "money" else None
        checks.append(validators.NumberRange(min=p.min if p.min is not None else low, max=p.max))
        cls = fields.IntegerField
    elif p.kind == "bool":
        checks = [validators.Optional()]
        cls = fields.BooleanField
    elif p.kind == "date":
        cls = fields.DateField
    else:
        from wtforms.fields.choices import SelectChoice

        pairs = ([] if p.required else [("", "—")]) + p.choice_pairs()
        return fields.SelectField(p.label, choices=[SelectChoice(value, label) for value, label in pairs],
                                  default=None if default is None else str(jsonable(default)), validators=checks,
                                  description=p.help)
    return cls(p.label, validators=checks, default=default, description=p.help)


def form_class(spec: TaskSpec, base=None):
    """A WTForms form class with one field per parameter (pass `base=FlaskForm` for CSRF)."""
    from wtforms import Form

    attributes = {p.name: _field(p) for p in spec.params}
    return type(f"{spec.name.title().replace('_', '')}Form", (base or Form,), attributes)
