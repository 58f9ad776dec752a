"""Dates in query strings: the one parser, and the one supported range, of every route that filters by date,
and the one way a page words a bad query value (by the label its form gives the field).

The range keeps a decade of arithmetic on either side of any accepted date (a previous period, a 90-day
window, the day after `to`) far from `date.min` and `date.max`, where it would overflow into a 500.
"""
from __future__ import annotations

import re
from datetime import date

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # fromisoformat alone also takes 20260105 and 2026-W02-1
# The filter forms' names for the query's date fields: pages speak the form's words, the API the query's.
DATE_LABELS = {"from": "From date", "to": "To date"}


class DateError(ValueError):
    """A date argument that cannot be used: `field` names it, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def query_date(args, name: str) -> date | None:
    """The date in `args[name]` (YYYY-MM-DD, within EARLIEST..LATEST), None when absent or blank."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if not _ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise DateError(name, f"{name} must be a date written YYYY-MM-DD, not {raw[:40]!r}") from None
    if not EARLIEST <= day <= LATEST:
        raise DateError(name, f"{name} must be a date from {EARLIEST} to {LATEST}, not {raw}")
    return day


def query_range(args, start_name: str = "from", end_name: str = "to") -> tuple[date | None, date | None]:
    """Both ends of a date range from `args`; DateError names the start when it comes after the end."""
    start, end = query_date(args, start_name), query_date(args, end_name)
    if start and end and start > end:
        raise DateError(start_name, f"{start_name} ({start}) is after {end_name} ({end})")
    return start, end


def in_form_words(messages: dict[str, str], labels: dict[str, str]) -> str:
    """Bad query values as a form names its fields: "From date must be ...", never the query's "from must be".

    A message names a field by its query name where the field is the subject ("from must ...", "to is ...",
    "from (...) is after to (...)"). Only the text before a quoted value is reworded: the value stays as typed.
    """
    names = "|".join(re.escape(name) for name in sorted(labels, key=len, reverse=True))
    subject = re.compile(rf"\b({names})\b(?= must | is | contains | \()")
    sentences = []
    for message in messages.values():
        head, quote, value = message.partition("'")
        text = subject.sub(lambda match: labels[match.group(1)], head) + quote + value
        sentences.append(f"{text[:1].upper()}{text[1:].rstrip('.')}.")
    return " ".join(sentences)
