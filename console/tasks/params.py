"""Task parameters: what each is (its marker, its `Param` options, its ParamSpec), and reading raw values.

Raw values come as strings (web forms, the CLI) or as JSON types (the API); all go through
`coerce_params`, which names every bad field. Money is a whole number of the currency's minor units
(cents) for the API and the CLI; a form types it in the currency's units (`250.50`), read with
`money_in_units=True`. How the parameters are described to others (JSON Schema, WTForms) is schema.py.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from console.jsontext import REDACTED, jsonable
from console.product.money import CURRENCY_CODE, format_money, parse_money

# Names the runner, the forms and the API use around a task's own parameters.
RESERVED_NAMES = frozenset({"ctx", "ticket", "reason", "csrf_token", "params", "task", "idempotency_key"})
# Whole numbers are compared with 32-bit integer columns (ids): on PostgreSQL a bigger value is an
# "integer out of range" error, not a row that is not found.
MAX_INT = 2**31 - 1
# Amounts land in 32-bit integer columns on PostgreSQL; a bigger value is a typo, not a refund.
MAX_MONEY = 2**31 - 1
MAX_TEXT = 10_000
CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")
_INTEGER = re.compile(r"^[+-]?\d+$")
# An address of ASCII letters, digits and _ + - in dot-separated atoms, @, dot-separated labels of letters and
# digits joined by single hyphens, and a top-level domain of letters: a subset of what email_validator accepts
# (a test compares them), which it would only lower-case, read for a tenth of its cost (each run reads one).
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+[A-Za-z]{2,63}")
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class Email(str):
    """An email address parameter: validated and lower-cased."""


class Money(int):
    """An amount in the minor units (cents) of the currency its Param states: `Param("Amount", currency="EUR")`."""


class Secret(str):
    """A parameter whose value never reaches the audit, the run record or the API."""


@dataclass(frozen=True)
class Param:
    """How a parameter is shown and constrained: `Annotated[int, Param("Order number", min=1)]`.

    For Money, `currency` (an ISO 4217 code) is required, and `min`/`max` are in its minor units (cents).
    """

    label: str
    help: str | None = None
    min: Any = None
    max: Any = None
    pattern: str | None = None
    max_length: int | None = None
    currency: str | None = None


# kind -> the Python annotation it comes from; choices are "choice" (Literal or Enum).
KINDS = ("str", "int", "bool", "date", "choice", "email", "money", "secret")
PLAIN_KINDS = {Email: "email", Money: "money", Secret: "secret", str: "str", int: "int", bool: "bool",
               date: "date"}


@dataclass(frozen=True)
class ParamSpec:
    """One typed parameter of a task."""

    name: str
    kind: str
    label: str
    help: str = ""
    required: bool = True
    default: Any = None
    min: Any = None
    max: Any = None
    pattern: str | None = None
    max_length: int | None = None
    # For kind "choice": the allowed values (Enum members or literals) in declaration order.
    choices: tuple = ()
    enum: type[enum.Enum] | None = None
    currency: str = ""  # for kind "money": the ISO 4217 code its minor units belong to

    @property
    def is_secret(self) -> bool:
        return self.kind == "secret"

    def choice_pairs(self) -> list[tuple[str, str]]:
        """(submitted value, label) pairs for a select."""
        if self.enum is not None:
            return [(str(member.value), member.name.replace("_", " ").capitalize()) for member in self.choices]
        return [(str(value), str(value)) for value in self.choices]

    def shown(self, value):
        """The value as people read it: money as 'EUR 250.00', anything else as it is."""
        if self.kind == "money" and isinstance(value, int) and not isinstance(value, bool):
            return format_money(value, self.currency)
        return value


def money_problem(p: ParamSpec) -> str | None:
    """What is wrong with a parameter's currency, or None: Money states a valid one, nothing else has one."""
    if p.kind == "money" and not p.currency:
        return "a Money parameter states its currency, e.g. Param(\"Amount\", currency=\"EUR\")"
    if p.kind == "money" and not CURRENCY_CODE.match(p.currency):
        return f"currency {p.currency!r} is not a three-letter ISO 4217 code such as \"EUR\""
    if p.kind != "money" and p.currency:
        return "currency applies to Money parameters"
    return None


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
        raise _Invalid("must be text")
    if p.kind != "secret":
        value = value.strip()
    if _CONTROL.search(value):
        raise _Invalid("cannot contain control characters")
    limit = p.max_length or MAX_TEXT
    if len(value) > limit:
        raise _Invalid(f"must be at most {limit} characters")
    if p.pattern and not re.fullmatch(p.pattern, value):
        raise _Invalid(f"is not in the expected format ({p.pattern})")
    return value


def _whole_number(value) -> int:
    if isinstance(value, bool):
        raise _Invalid("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise _Invalid("must be a whole number")


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


def _money(p: ParamSpec, value, *, in_units: bool = False) -> int:
    """Minor units, from a whole number of them (the API, the CLI) or from text in units (a form: `250.50`)."""
    if in_units and isinstance(value, str):
        try:
            cents = parse_money(value, p.currency)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
    else:
        try:
            cents = _whole_number(value)
        except _Invalid:
            raise _Invalid(f"must be a whole number of cents ({format_money(2500, p.currency)} is 2500)") from None
        if cents < 0:
            raise _Invalid("cannot be negative")
    if cents > MAX_MONEY:
        raise _Invalid(f"must be at most {format_money(MAX_MONEY, p.currency)}")
    return _in_range(p, cents, shown=lambda limit: format_money(limit, p.currency))


def _boolean(p: ParamSpec, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid("must be true or false")


def _date(p: ParamSpec, value) -> date:
    if isinstance(value, datetime):
        raise _Invalid("must be a date (YYYY-MM-DD), not a date and time")
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise _Invalid("must be a date written YYYY-MM-DD") from None
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


def _plain_email(text: str) -> str | None:
    """The address lower-cased when it is plainly valid (`_PLAIN_EMAIL`), else None: email_validator decides."""
    if len(text) > 254 or not _PLAIN_EMAIL.fullmatch(text):
        return None
    local, _, domain = text.lower().partition("@")
    if len(local) > 64 or any(len(label) > 63 for label in domain.split(".")):
        return None
    if any(domain == special or domain.endswith("." + special) for special in SPECIAL_USE_DOMAIN_NAMES):
        return None
    return f"{local}@{domain}"


def _email(p: ParamSpec, value) -> str:
    text = _text(p, value)
    address = _plain_email(text)
    if address is None:
        try:
            address = validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise _Invalid(f"is not a valid email address ({exc})") from None
    if len(address) > (p.max_length or 254):
        raise _Invalid(f"must be at most {p.max_length or 254} characters")
    return address


_COERCE = {"str": _text, "secret": _text, "email": _email, "int": _integer, "bool": _boolean, "date": _date,
           "choice": _choice}


def coerce_params(spec, raw: Mapping[str, Any] | None, *, money_in_units: bool = False) -> dict:
    """Validate and type the raw parameters of a task spec; raise ParamErrors naming each bad field.

    `money_in_units`: Money given as text is in the currency's units, as a form takes it ("250.50").
    """
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
            if p.kind == "money":
                typed[p.name] = _money(p, value, in_units=money_in_units)
            else:
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


def params_to_json(spec, typed: dict, *, redact: bool = True) -> dict:
    """The parameters as JSON values, with secrets replaced by "[redacted]" unless told otherwise."""
    out = {}
    for p in spec.params:
        if p.name not in typed:
            continue
        value = typed[p.name]
        out[p.name] = REDACTED if (redact and p.is_secret and value not in (None, "")) else jsonable(value)
    return out


def has_secrets(spec) -> bool:
    return any(p.is_secret for p in spec.params)
