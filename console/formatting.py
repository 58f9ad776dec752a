"""How pages show values: times with their zone named, columns and rows in words, personal data masked.

Times are stored as naive UTC. A page renders each one in DISPLAY_TIMEZONE (CONSOLE_TIMEZONE) with the
zone named, inside <time datetime="…Z" data-local-time>; static/local_time.js then rewrites it to the
viewer's own zone, named too. Without script the configured zone still names itself.

Personal data is masked by the product package's declarations wherever a page is read by others than the
person who typed the values: run pages and lists, approvals, the audit trail. Which columns are personal,
and each one's mask, reach this module as `app.extensions["personal_data"]` (set up by console.lookup from
the product package), so the lowest layer of the pages imports no domain.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from flask.globals import _cv_app
from markupsafe import Markup, escape

from console.config import ConfigError

UTC_ZONE = ZoneInfo("UTC")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A timestamp as JSON carries one (the task diffs and the audit details have no datetime type).
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")
REDACTED = "[redacted]"
# Shorter personal values are not searched for in free text: "Al" would mask half the words of a sentence.
MIN_SCRUBBED = 3
# An address inside free text; a masked one ("al•••e@e•••.com") has no run of these around its "@" to match twice.
EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
COLUMN_WORDS = {"id": "Number", "created_at": "Created", "updated_at": "Last changed",
                "status_changed_at": "Status changed"}
# Columns every change touches; a summary sentence leaves them out when something else changed.
BOOKKEEPING = ("updated_at", "status_changed_at")
# markupsafe's escape, as one str.translate: the same entities, one C call per value, no Markup object
# (markupsafe's escape is a Python function of about five calls).
HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})
# Whether a text holds a character HTML_ESCAPES replaces. Most values hold none, and looking (one regex call, in
# C) takes a tenth of the time of str.translate with that table, which maps to several characters and so goes
# character by character: the text is translated only when it must be.
NEEDS_ESCAPING = re.compile(r"[&<>\"']").search
# Characters that reorder the text around them: a name holding U+202E would show the rest of the line reversed.
# Personal data is typed by customers, so they are shown as visible markers, never obeyed.
BIDI_CONTROLS = {code: f"[U+{code:04X}]" for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                                       *range(0x2066, 0x206A))}


def neutral(text: str) -> str:
    """The text with every bidirectional control character shown as a marker such as [U+202E]."""
    return text if text.isascii() else text.translate(BIDI_CONTROLS)


def html_text(value) -> str:
    """`value` as HTML text, as markupsafe's escape has it: a str escaped (HTML_ESCAPES, where NEEDS_ESCAPING
    finds something to escape), a number as it is, Markup and anything else with `__html__` left to markupsafe.
    A record page escapes some sixty values."""
    kind = value.__class__
    if kind is str:
        return value if NEEDS_ESCAPING(value) is None else value.translate(HTML_ESCAPES)
    if kind is int:
        return str(value)
    return escape(value)


def personal_data():
    """The product's personal columns and their masks: `.kind_of(table, column)`, `.field_kind(name)`,
    `.mask(kind, text)` (console.lookup.masking.PersonalColumns)."""
    return current_app.extensions["personal_data"]


def customer_table() -> tuple[str, str] | None:
    """(the table of the product's customers, the column of their email), or None when it declares none."""
    return personal_data().customer


def column_kind(table: str | None, column: str) -> str | None:
    """The mask of a product table's column, or None when it holds nothing personal."""
    return personal_data().kind_of(table, column)


def zone_from_config(name: str | None) -> ZoneInfo:
    """The display zone named by CONSOLE_TIMEZONE; a ConfigError that says how to fix a bad name."""
    try:
        return ZoneInfo(name or "UTC")  # ZoneInfo caches: "UTC" is always UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"CONSOLE_TIMEZONE: {name!r} is not a time zone. Use an IANA name such as "
                          "Europe/Berlin, America/New_York or UTC.") from None


def display_zone() -> ZoneInfo:
    return _cv_app.get().app.extensions["display_zone"]  # not current_app: a proxy hop is three calls, per page


def as_utc(value: datetime) -> datetime:
    """Naive UTC, as stored: an aware value is converted, a naive one already is UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def parse_stamp(value) -> datetime | None:
    """A datetime, or a timestamp string as JSON stores one, as naive UTC; None for anything else."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and STAMP.fullmatch(value):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:  # the shape of a timestamp, but not a real one ("2026-02-30 10:00")
            return None
    return None


def zone_name(moment: datetime) -> str:
    """'UTC', 'CET', 'EST'; an offset-only zone as 'UTC-03'."""
    name = moment.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def format_date(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_time(value: datetime, *, seconds: bool = False, zone: ZoneInfo | None = None) -> str:
    """'27 Nov 2026, 14:05 UTC': the moment in the display zone, with the zone named."""
    moment = as_utc(value)
    zone = zone or display_zone()
    local, name = moment, "UTC"
    if zone is not UTC_ZONE:  # lists render this for every row: UTC, the default, skips the conversion
        try:
            local = moment.replace(tzinfo=timezone.utc).astimezone(zone)
            name = zone_name(local)
        except OverflowError:  # the first or last hours of year 1 or 9999 have no local time west or east of UTC
            pass
    clock = f"{local.hour:02d}:{local.minute:02d}" + (f":{local.second:02d}" if seconds else "")
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {clock} {name}"


def local_time(value, seconds: bool = False, zone: ZoneInfo | None = None) -> Markup:
    """A moment as <time datetime="…Z" data-local-time>27 Nov 2026, 14:05 UTC</time>; the page's script
    shows it in the viewer's zone. A date is shown as a date; other text as it is; None as nothing.
    `zone` is the display zone, for callers that print many (default: display_zone())."""
    moment = value if isinstance(value, datetime) and value.tzinfo is None else parse_stamp(value)
    if moment is None:
        if isinstance(value, date):
            return Markup(f'<time datetime="{value.isoformat()}">{format_date(value)}</time>')
        return Markup("") if value is None else escape(value)
    # Every part is digits, month names and a tz database abbreviation: nothing to escape.
    return Markup(f'<time datetime="{moment.isoformat(timespec="seconds")}Z" data-local-time'
                  f'{" data-seconds" if seconds else ""}>{format_time(moment, seconds=seconds, zone=zone)}</time>')


def human_column(name, *, unit: bool = True) -> str:
    """'failed_login_count' -> 'Failed login count', 'refunded_cents' -> 'Refunded amount (cents)'; without the
    `unit` where no raw value goes with the words (a sentence naming what changes, an amount shown in its currency)."""
    name = str(name)
    if name in COLUMN_WORDS:
        return COLUMN_WORDS[name]
    words, unit_text = name, ""
    if words.endswith("_cents"):
        words, unit_text = words[:-len("_cents")], " (cents)" if unit else ""
        if words.endswith("ed"):  # refunded_cents: the refunded amount
            words += " amount"
    elif words.endswith("_id"):
        words, unit_text = words[:-len("_id")], " number"
    words = re.sub(r"(?<=[A-Za-z])(?=\d)", " ", words.replace("_", " ")).strip()
    return words[:1].upper() + words[1:] + unit_text if words else name


def table_noun(table) -> str:
    """A name in words, singular: 'customers' -> 'Customer', 'order_items' -> 'Order item'."""
    word = str(table).replace("_", " ").strip()
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:1].upper() + word[1:] if word else "Row"


def key_label(key) -> str:
    if key is None:
        return ""
    if isinstance(key, dict):
        if len(key) == 1:  # {"id": 7}: the number says it
            return str(next(iter(key.values())))
        return ", ".join(f"{human_column(name).lower()} {value}" for name, value in key.items())
    return str(key)


class Personal:
    """Masks personal values as the lookup pages do, and remembers them to mask free text that repeats them.

    `revealed` shows everything. `typed` are values the reader typed into this very request (a preview's
    parameters): shown whole, as they tell the reader nothing new; whatever else is personal stays masked.
    """

    def __init__(self, revealed: bool = False, typed=()):
        self.revealed = revealed
        self._typed = {str(value).lower() for value in typed if value is not None and value != ""}
        self._seen: dict[str, str] = {}

    def mask(self, kind: str | None, value):
        if kind is None or self.revealed or value is None or value == "" or value == REDACTED:
            return value
        if str(value).lower() in self._typed:
            return neutral(value) if isinstance(value, str) else value
        masked = personal_data().mask(kind, neutral(str(value)))
        if len(str(value)) >= MIN_SCRUBBED:
            self._seen[str(value)] = masked
        return masked

    def column(self, table, column, value):
        return self.mask(column_kind(table, column), value)

    def param(self, name, value, kind: str | None = None):
        """A task parameter: by the parameter's type when it is an email, else by its name."""
        return self.mask("email" if kind == "email" else personal_data().field_kind(name), value)

    def text(self, text):
        """Free text (a result, an error, a reason) with every personal value masked so far masked in it too,
        and any other email address in it masked: a task may name a customer it read and nobody typed."""
        if self.revealed or not text or not isinstance(text, str):
            return text
        if self._seen:
            by_lower = {value.lower(): masked for value, masked in self._seen.items()}
            pattern = "|".join(rf"(?<!\w){re.escape(value)}(?!\w)"
                               for value in sorted(self._seen, key=len, reverse=True))
            text = re.sub(pattern, lambda found: by_lower.get(found.group(0).lower(), found.group(0)), text,
                          flags=re.IGNORECASE)
        if "@" in text:
            text = EMAIL_IN_TEXT.sub(lambda found: self.mask("email", found.group(0)), text)
        return text

    def change(self, change):
        """A {"table", "key", "before", "after"} change with its personal columns masked."""
        if not isinstance(change, dict):
            return change
        table = change.get("table")

        def row(values):
            if not isinstance(values, dict):
                return values
            return {name: self.column(table, name, value) for name, value in values.items()}

        return dict(change, before=row(change.get("before")), after=row(change.get("after")))

    def effect(self, effect):
        """An effect ({"kind": "email", "to": …}) with its address masked as an email, whatever the product
        declares of its outbox (a package may declare no outbox record at all)."""
        if not isinstance(effect, dict) or "to" not in effect:
            return effect
        return dict(effect, to=self.mask("email", effect["to"]))

    def _changes_and_effects(self, holder: dict) -> dict:
        out = dict(holder)
        if isinstance(out.get("changes"), list):
            out["changes"] = [self.change(change) for change in out["changes"]]
        if isinstance(out.get("effects"), list):
            out["effects"] = [self.effect(effect) for effect in out["effects"]]
        return out

    def details(self, details, param_kinds: dict | None = None):
        """An audit entry's details with personal values masked in its params, changes, effects and texts."""
        if not isinstance(details, dict):
            return details
        out = self._changes_and_effects(details)
        if isinstance(out.get("expected"), dict):
            out["expected"] = self._changes_and_effects(out["expected"])
        if isinstance(out.get("params"), dict):
            kinds = param_kinds or {}
            out["params"] = {name: self.param(name, value, kinds.get(name)) for name, value in out["params"].items()}
        for name in ("result", "error"):
            if isinstance(out.get(name), str):
                out[name] = self.text(out[name])
        return out


def masked(value, kind: str):
    """A personal value as pages that others read show it: `{{ run.customer|masked('email') }}`."""
    return Personal().mask(kind, value)


def shown_value(value, seconds: bool = True):
    """A value as a table shows it: a timestamp formatted in its zone, anything else as it is."""
    return local_time(value, seconds=seconds) if parse_stamp(value) is not None else value


def row_name(table, key, before, after, *, personal: Personal, customer: str = "") -> str:
    """What a changed row is: 'Customer al•••e@e•••.com (#12)', 'Order 1004', 'New refund for order 1004'.

    The words come from the product's records (PersonalColumns.rows): a row is named by its record's noun, by
    its title when that shows the key alone ("Order {id}"), and by the record it belongs to, if not a customer.
    """
    product = personal_data()
    noun, key_title, parents = product.rows.get(table) or (table_noun(table), None, ())
    values = {**(after or {}), **(before or {})} if isinstance(before, dict) or isinstance(after, dict) else {}
    parent = next((f"{parent_noun.lower()} {key_label(values[via])}" for via, parent_noun in parents
                   if values.get(via) is not None), "")
    if key is None or key == "":
        return f"New {noun[:1].lower()}{noun[1:]}" + (f" for {parent}" if parent else "")
    label = key_label(key)
    customers = product.customer
    if customers is not None and table == customers[0]:  # a customer's row is named by their email
        email = values.get(customers[1]) or customer
        shown = personal.mask("email", email) if email else ""
        return f"{noun} {shown} (#{label})" if shown else f"{noun} #{label}"
    if parent:
        return f"{noun} #{label} of {parent}"
    return f"{key_title[0]}{label}{key_title[1]}" if key_title else f"{noun} #{label}"


def counted(number: int, noun: str, plural: str = "") -> str:
    """A count with its noun in the right number: "1 token", "2 tokens" ("1 entry", "3 entries" given the plural)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def init_app(app: Flask) -> None:
    """Check the display zone, and give templates `local_time` (a filter and a function)."""
    app.extensions["display_zone"] = zone_from_config(app.config.get("DISPLAY_TIMEZONE"))
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["counted"] = counted
    app.jinja_env.globals["local_time"] = local_time
    app.jinja_env.filters["human_column"] = human_column
    app.jinja_env.filters["masked"] = masked
    app.jinja_env.filters["shown_value"] = shown_value
