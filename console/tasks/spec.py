"""What a task is: the `@task` decorator, and the spec built from a function.

The decorator only attaches metadata; `build_spec` (called by discovery) reads the signature
and turns every mistake into a `TaskDefinitionError` that names the plugin's file. What a parameter
is (its markers, `Param`, reading its values) is params.py, below this module.
"""
from __future__ import annotations

import enum
import inspect
import logging
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Annotated, Callable, Literal, Union, get_args, get_origin

from console.auth.models import ROLES
from console.product.money import format_money
from console.tasks.params import (PLAIN_KINDS, RESERVED_NAMES, Param, ParamErrors, ParamSpec, coerce_params,
                                  money_problem)
from console.tasks.schema import form_class, json_schema

RISKS = ("low", "medium", "high")
DEFAULT_ROLES = ("agent", "lead", "admin")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_RECORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
logger = logging.getLogger(__name__)


class Refusal(Exception):
    """The task cannot apply; the message says why (for example "order 1002 has already shipped")."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TaskDefinitionError(Exception):
    """A plugin is invalid; the message starts with its file (`.file`), then what is wrong (`.detail`)."""

    def __init__(self, file: str, detail: str):
        super().__init__(f"{file}: {detail}")
        self.file = file
        self.detail = detail


@dataclass(frozen=True)
class TaskDeclaration:
    """What `@task` attaches to the function (`fn.__task_spec__`)."""

    title: str
    category: str
    risk: str | Callable[[dict], str]
    roles: tuple[str, ...]
    undo: bool | Callable
    undo_note: str
    name: str | None
    examples: tuple = ()
    redact_before: bool = False
    sets_address: str | None = None
    sends_to_address: str | None = None
    offered_on: str | None = None
    record_param: str | None = None
    applies_when: Callable | None = None
    reply: Callable | None = None
    batch_reads: Callable | None = None


def task(fn: Callable | None = None, *, title: str, category: str = "General",
         risk: str | Callable[[dict], str] = "low", roles: tuple[str, ...] | list[str] = DEFAULT_ROLES,
         undo: bool | Callable = False, undo_note: str = "", name: str | None = None,
         examples: list[dict] | tuple = (), redact_before: bool = False, sets_address: str | None = None,
         sends_to_address: str | None = None, offered_on: str | None = None, record_param: str | None = None,
         applies_when: Callable | None = None, reply: Callable | None = None,
         batch_reads: Callable | None = None):
    """Mark a function as a task; discovery (console.tasks.registry) reads the mark.

    `examples`: sample raw parameters (the contract test and the docs use the first).
    `redact_before`: store and audit the `before` values of updated rows as "[redacted]"
    (an erasure must not keep the erased data in its own diff); the live preview shows them.
    `sets_address`: the Email parameter that becomes the account's contact address (a change of email).
    `sends_to_address`: the Email parameter naming the account address that the task mails a link to
    (a password reset, a confirmation); to an address that a task set within 24 hours, the run needs approval.
    `offered_on`: the record (of the product package) whose page offers the task; `record_param`: the
    parameter that record fills (default: the first), from its column of that name, else from its key.
    `applies_when(row)`: whether the record's page offers the task, from the row it already read (a mapping of
    its columns): True, or a short reason it does not apply ("the order has shipped"). Cheap, no queries:
    the refusal after the preview stays the rule.
    `reply(params, result)`: the reply to the customer the run page suggests once the run succeeded.
    `batch_reads(reads, items)`: in a bulk, reads the rows of a chunk of runs (`items`: their parameters) at
    once, which the task's own reads then find without a query (console.tasks.prefetch; docs/WRITING_TASKS.md).
    """

    def attach(func: Callable) -> Callable:
        func.__task_spec__ = TaskDeclaration(title=title, category=category, risk=risk, roles=tuple(roles),
                                             undo=undo, undo_note=undo_note, name=name,
                                             examples=tuple(examples), redact_before=bool(redact_before),
                                             sets_address=sets_address, sends_to_address=sends_to_address,
                                             offered_on=offered_on, record_param=record_param,
                                             applies_when=applies_when, reply=reply, batch_reads=batch_reads)
        return func

    return attach(fn) if fn is not None else attach


@dataclass(frozen=True)
class TaskSpec:
    """A discovered task: its metadata, its parameters and the function that does the work."""

    name: str
    title: str
    category: str
    description: str
    risk: str | Callable[[dict], str]
    roles: tuple[str, ...]
    params: tuple[ParamSpec, ...]
    fn: Callable = field(repr=False)
    undo: bool | Callable = False
    undo_note: str = ""
    module: str = ""
    file: str = ""
    examples: tuple = ()
    redact_before: bool = False
    sets_address: str | None = None
    sends_to_address: str | None = None
    offered_on: str = ""  # the record whose page offers this task ("" when none says)
    record_param: str = ""  # the parameter that record fills
    applies_when: Callable | None = field(default=None, repr=False)
    reply: Callable | None = field(default=None, repr=False)
    batch_reads: Callable | None = field(default=None, repr=False)

    @property
    def undoable(self) -> bool:
        return bool(self.undo)

    @property
    def risk_label(self) -> str:
        """The static risk, or "varies" when it depends on the parameters."""
        return self.risk if isinstance(self.risk, str) else "varies"

    @property
    def summary_line(self) -> str:
        """The description's first sentence (a docstring's first line may stop mid-sentence), never cut mid-word."""
        return first_sentence(self.description)

    def not_applying(self, row) -> str:
        """Why the task does not apply to this record's row ("" when it does, or when it does not say).

        A check that fails (a column the package lacks) offers the task: the refusal after the preview decides.
        """
        if self.applies_when is None:
            return ""
        try:
            verdict = self.applies_when(row)
        except Exception:  # noqa: BLE001 - a plugin's check must not take the record's page down
            logger.warning("task %s: applies_when failed on a row; offering the task", self.name, exc_info=True)
            return ""
        if verdict is True or verdict is None:
            return ""
        return verdict.strip() if isinstance(verdict, str) and verdict.strip() else "it does not apply here"

    def suggested_reply(self, params: dict, result: str) -> str:
        """The task's reply to the customer after a successful run; "" when it has none (or it fails)."""
        if self.reply is None:
            return ""
        try:
            text = self.reply(params, result)
        except Exception:  # noqa: BLE001 - the run happened; a broken reply only loses the suggestion
            logger.warning("task %s: reply failed", self.name, exc_info=True)
            return ""
        return text.strip() if isinstance(text, str) else ""

    @property
    def currency(self) -> str:
        """The currency of the task's Money parameters (they share one, checked at discovery); '' without any."""
        return next((p.currency for p in self.params if p.kind == "money"), "")

    def amount_text(self, cents: int | None) -> str:
        """An amount of this task's money as people read it ('EUR 250.00'); a plain grouped number without money."""
        return format_money(cents, self.currency)

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def json_schema(self) -> dict:
        return json_schema(self)

    def form_class(self, base=None):
        return form_class(self, base)


SUMMARY_MAX = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(text: str, limit: int = SUMMARY_MAX) -> str:
    """The first sentence of `text`, its lines joined; a longer one ends at the last whole word that fits, with …"""
    flat = " ".join((text or "").split())
    sentence = _SENTENCE_END.split(flat, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit + 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def subject_from_params(spec: TaskSpec, params: dict) -> tuple[str, int | None]:
    """The customer email and order a run concerns, when its parameters name them (for run history and caps)."""
    customer, order_id = "", None
    for p in spec.params:
        value = params.get(p.name)
        if p.kind == "email" and p.name in ("email", "customer_email") and value:
            customer = value
        if p.kind == "int" and p.name == "order_id" and value is not None:
            order_id = value
    return customer, order_id


def record_key(spec: TaskSpec, value) -> str | None:
    """The text a run on a record keeps of its record_param's value, as the task takes it (an email
    lower-cased, text stripped): the same for the run's parameter and for the record page's value that fills it."""
    if value is None:
        return None
    text = str(value).strip()
    kind = next((p.kind for p in spec.params if p.name == spec.record_param), "")
    text = text.lower() if kind == "email" else text
    return text[:254] or None


def record_of(spec: TaskSpec, params: dict) -> tuple[str | None, str | None]:
    """(the record a run is on, its key as record_key keeps it): from the task's offered_on and the value its
    record_param took; (None, None) for a task offered on no record."""
    if not spec.offered_on or not spec.record_param:
        return None, None
    key = record_key(spec, params.get(spec.record_param))
    return (spec.offered_on, key) if key is not None else (None, None)


def _fail(where: tuple[str, str], message: str) -> TaskDefinitionError:
    file, name = where
    return TaskDefinitionError(file, f"task {name!r}: {message}")


def _unwrap_optional(annotation) -> tuple[Any, bool]:
    """`X | None` -> (X, True); anything else -> (annotation, False)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _param_spec(where: tuple[str, str], name: str, annotation, default) -> ParamSpec:
    meta = None
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        meta = next((extra for extra in extras if isinstance(extra, Param)), None)
        annotation = base
    annotation, nullable = _unwrap_optional(annotation)
    choices: tuple = ()
    enum_cls = None
    if get_origin(annotation) is Literal:
        kind, choices = "choice", tuple(get_args(annotation))
        if not choices or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in choices):
            raise _fail(where, f"parameter {name!r}: Literal values must be strings or integers")
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kind, enum_cls, choices = "choice", annotation, tuple(annotation)
    elif annotation in PLAIN_KINDS:
        kind = PLAIN_KINDS[annotation]
    else:
        shown = getattr(annotation, "__name__", repr(annotation))
        raise _fail(where, f"parameter {name!r} has an unknown type {shown}; use str, int, bool, date, Literal, "
                           "Enum, Email, Money or Secret")
    has_default = default is not inspect.Parameter.empty
    if nullable and not has_default:
        raise _fail(where, f"parameter {name!r} may be None, so it needs a default (e.g. = None)")
    if meta is not None and (meta.min is not None or meta.max is not None) and kind not in ("int", "money", "date"):
        raise _fail(where, f"parameter {name!r}: min and max apply to int, Money and date parameters")
    if meta is not None and (meta.pattern or meta.max_length) and kind not in ("str", "email", "secret"):
        raise _fail(where, f"parameter {name!r}: pattern and max_length apply to text parameters")
    if enum_cls is not None and not all(isinstance(m.value, (str, int)) for m in enum_cls):
        raise _fail(where, f"parameter {name!r}: the values of {enum_cls.__name__} must be strings or integers")
    if meta is not None and meta.pattern is not None:
        try:
            re.compile(meta.pattern)
        except re.error as exc:
            raise _fail(where, f"parameter {name!r}: invalid pattern {meta.pattern!r} ({exc})") from None
    label = meta.label if meta is not None else name.replace("_", " ").capitalize()
    # An unticked checkbox sends nothing, so a bool is never "missing": it is False.
    required = not has_default and kind != "bool"
    spec = ParamSpec(
        name=name, kind=kind, label=label, help=(meta.help or "") if meta else "", required=required,
        default=(default if has_default else (False if kind == "bool" else None)),
        min=meta.min if meta else None, max=meta.max if meta else None,
        pattern=meta.pattern if meta else None, max_length=meta.max_length if meta else None,
        choices=choices, enum=enum_cls, currency=(meta.currency or "") if meta else "",
    )
    problem = money_problem(spec)
    if problem:
        raise _fail(where, f"parameter {name!r}: {problem}")
    return spec


def _check_risk(where: tuple[str, str], risk) -> None:
    if callable(risk):
        return
    if risk not in RISKS:
        raise _fail(where, f"risk must be one of {', '.join(RISKS)} or a function of the parameters, not {risk!r}")


def _offer(where: tuple[str, str], declaration: TaskDeclaration, params: list[ParamSpec]) -> tuple[str, str]:
    """The record the task is offered on and the parameter it fills, checked; ("", "") when not offered."""
    if declaration.offered_on is None:
        if declaration.record_param is not None:
            raise _fail(where, "record_param needs offered_on (the record whose page offers the task)")
        return "", ""
    if not isinstance(declaration.offered_on, str) or not _RECORD.match(declaration.offered_on):
        raise _fail(where, "offered_on must name a record of the product package, such as \"customers\"")
    if not params:
        raise _fail(where, "a task offered on a record needs a parameter for the record to fill")
    param = declaration.record_param or params[0].name
    if not any(p.name == param for p in params):
        raise _fail(where, f"record_param {param!r} is not a parameter of the task")
    return declaration.offered_on, param


def build_spec(fn: Callable, file: str) -> TaskSpec:
    """Read a decorated function into a TaskSpec; every error starts with the plugin's file."""
    declaration: TaskDeclaration = fn.__task_spec__
    name = declaration.name or fn.__name__
    where = (file, name)
    if not _NAME.match(name):
        raise _fail(where, "a task name is lower-case letters, digits and underscores, starting with a letter")
    if not (declaration.title or "").strip():
        raise _fail(where, "a title is required")
    description = inspect.getdoc(fn) or ""
    if not description.strip():
        raise _fail(where, "a docstring is required; it becomes the task's description")
    _check_risk(where, declaration.risk)
    unknown_roles = [role for role in declaration.roles if role not in ROLES]
    if unknown_roles or not declaration.roles:
        raise _fail(where, f"roles must be a non-empty list of {', '.join(ROLES)}; got {list(declaration.roles)}")
    if not (declaration.undo is True or declaration.undo is False or callable(declaration.undo)):
        raise _fail(where, "undo must be True, False or a function (ctx, run)")
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # an annotation that names something undefined
        raise _fail(where, f"cannot read the annotations ({exc.__class__.__name__}: {exc})") from None
    signature = inspect.signature(fn)
    parameters = list(signature.parameters.values())
    if not parameters or parameters[0].name != "ctx":
        raise _fail(where, "the first parameter must be `ctx: TaskContext`")
    params = []
    for parameter in parameters[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY):
            raise _fail(where, f"parameter {parameter.name!r}: use plain named parameters (no *args, **kwargs or /)")
        if parameter.name in RESERVED_NAMES:
            raise _fail(where, f"parameter {parameter.name!r} is a reserved name; choose another")
        if parameter.name not in hints:
            raise _fail(where, f"parameter {parameter.name!r} has no type annotation")
        params.append(_param_spec(where, parameter.name, hints[parameter.name], parameter.default))
    if declaration.redact_before and declaration.undo is True:
        raise _fail(where, "the generic undo restores the before values, which redact_before=True does not keep")
    for option in ("sets_address", "sends_to_address"):
        named = getattr(declaration, option)
        if named is not None and not any(p.name == named and p.kind == "email" for p in params):
            raise _fail(where, f"{option} must name one of the task's Email parameters, not {named!r}")
    offered_on, record_param = _offer(where, declaration, params)
    if declaration.applies_when is not None and not offered_on:
        raise _fail(where, "applies_when needs offered_on (it reads the row of the record the task is offered on)")
    for option in ("applies_when", "reply", "batch_reads"):
        if getattr(declaration, option) is not None and not callable(getattr(declaration, option)):
            raise _fail(where, f"{option} must be a function")
    currencies = sorted({p.currency for p in params if p.kind == "money"})
    if len(currencies) > 1:
        # Caps and the run's amount add a task's Money parameters up: they must count the same units.
        raise _fail(where, f"its Money parameters must share one currency, not {', '.join(currencies)}")
    if not all(isinstance(example, dict) for example in declaration.examples):
        raise _fail(where, "examples must be a list of dicts of raw parameter values")
    spec = TaskSpec(
        name=name, title=declaration.title.strip(), category=(declaration.category or "General").strip(),
        description=description.strip(), risk=declaration.risk, roles=tuple(declaration.roles),
        params=tuple(params), fn=fn, undo=declaration.undo, undo_note=declaration.undo_note,
        module=fn.__module__, file=file, examples=declaration.examples, redact_before=declaration.redact_before,
        sets_address=declaration.sets_address, sends_to_address=declaration.sends_to_address,
        offered_on=offered_on, record_param=record_param, applies_when=declaration.applies_when,
        reply=declaration.reply, batch_reads=declaration.batch_reads,
    )
    for number, example in enumerate(declaration.examples, 1):
        try:
            coerce_params(spec, example)
        except ParamErrors as exc:
            raise _fail(where, f"example {number} is invalid: {exc}") from None
    return spec
