"""Reading the trail: filters, keyset pages, the CSV export and the API's records.

The trail can hold millions of entries, so nothing here counts rows or skips with OFFSET:
every page is `seq < cursor ORDER BY seq DESC LIMIT n` on a (column, seq) index.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from console.admin.base import neutralize_formula
from console.audit.chain import timestamp
from console.audit.models import AuditEntry
from console.dates import DATE_LABELS, DateError, in_form_words, query_range

PAGE_SIZE = 50
# The entries that close a task run's intent: its outcome, or a lead's reconciliation of it.
INTENT_CLOSERS = ("task.outcome", "task.reconcile")
FAILED = ("failed", "refused", "rejected", "interrupted")
MAX_SEQ = 2**31 - 1  # seq is a 32-bit integer column, and PostgreSQL casts parameters to it
EXPORT_BATCH = 1000
# Matched exactly, except `action`, which matches a prefix (see _conditions).
EXACT_FILTERS = ("actor", "action", "task", "ticket", "customer", "outcome")
# How the list's filter form names each query argument (the cursors come from its page links).
FIELD_LABELS = DATE_LABELS | {"actor": "Actor", "action": "Action", "task": "Task", "ticket": "Ticket",
                              "customer": "Customer", "outcome": "Status", "at": "Go to seq",
                              "before": "The older-page link", "after": "The newer-page link"}
CSV_COLUMNS = ("seq", "created_at", "actor", "action", "subject_type", "subject_id", "ticket", "reason", "task",
               "customer", "outcome", "details", "prev_hash", "hash")


class FilterError(ValueError):
    """A filter value that cannot be used; `field` names it, and `message` says why with the field as subject."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

    def in_words(self) -> str:
        """The message as the list's page says it, naming the field by its label in the filter form."""
        return in_form_words({self.field: self.message}, FIELD_LABELS)


@dataclass(frozen=True)
class TrailFilter:
    """What the auditor narrowed the trail to; empty fields match everything."""

    actor: str = ""
    action: str = ""
    task: str = ""
    ticket: str = ""
    customer: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict:
        """The filter as URL query arguments (for links that keep it)."""
        args = {name: getattr(self, name) for name in EXACT_FILTERS if getattr(self, name)}
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        return args

    def describe(self) -> dict:
        return {key: value.isoformat() if isinstance(value, date) else value
                for key, value in asdict(self).items() if value}


def _dates(args) -> tuple[date | None, date | None]:
    try:
        return query_range(args)
    except DateError as exc:
        raise FilterError(exc.field, exc.message) from None


def parse_filter(args) -> TrailFilter:
    """Read the filter from query arguments; raise FilterError naming a bad field."""
    values = {}
    for name in EXACT_FILTERS:
        value = (args.get(name) or "").strip()
        if len(value) > 254:
            raise FilterError(name, f"{name} is longer than 254 characters")
        if "\x00" in value:  # never stored (append replaces it), and PostgreSQL refuses it in a query
            raise FilterError(name, f"{name} contains a NUL character")
        values[name] = value
    date_from, date_to = _dates(args)
    return TrailFilter(**values, date_from=date_from, date_to=date_to)


def parse_seq(args, name: str) -> int | None:
    """A seq cursor from the query arguments, or None; raise FilterError when it is not one."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > MAX_SEQ:  # "²".isdigit()
        raise FilterError(name, f"{name} must be a whole number from 0 to {MAX_SEQ} (a seq), not {value[:40]!r}")
    return int(value)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _conditions(session: Session, flt: TrailFilter) -> list | None:
    """WHERE conditions for the filter; None when the date range holds no entry at all."""
    conditions = [getattr(AuditEntry, name) == getattr(flt, name) for name in EXACT_FILTERS
                  if getattr(flt, name) and name != "action"]
    if flt.action:  # a prefix: `user` finds every user.* action, `task.intent` just that one
        conditions.append(AuditEntry.action.startswith(flt.action, autoescape=True))
    # Entries are appended in time order under one lock, so a date range is a seq range. Turning
    # it into one keeps every filtered page on a (column, seq) index however old the range is.
    if flt.date_from:
        start = _midnight(flt.date_from)
        low = session.scalar(select(AuditEntry.seq).where(AuditEntry.created_at >= start)
                             .order_by(AuditEntry.created_at).limit(1))
        if low is None:
            return None
        conditions += [AuditEntry.seq >= low, AuditEntry.created_at >= start]
    if flt.date_to:
        end = _midnight(flt.date_to) + timedelta(days=1)
        high = session.scalar(select(AuditEntry.seq).where(AuditEntry.created_at < end)
                              .order_by(AuditEntry.created_at.desc()).limit(1))
        if high is None:
            return None
        conditions += [AuditEntry.seq <= high, AuditEntry.created_at < end]
    return conditions


@dataclass
class Page:
    """One screen of entries, newest first, with the cursors to the next ones."""

    entries: list
    newer: int | None = None  # pass as ?after= for the page above
    older: int | None = None  # pass as ?before= for the page below


def page(session: Session, flt: TrailFilter, *, before: int | None = None, after: int | None = None,
         size: int = PAGE_SIZE) -> Page:
    """The entries matching `flt` just below `before` (or just above `after`), newest first."""
    conditions = _conditions(session, flt)
    if conditions is None:
        return Page([])
    query = select(AuditEntry).options(defer(AuditEntry.details)).where(*conditions)
    if after is not None:
        rows = list(session.scalars(query.where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(size + 1)))
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return Page(rows, newer=rows[0].seq if rows and more_newer else None,
                    older=rows[-1].seq if rows else min(after + 1, MAX_SEQ))
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(size + 1)))
    more_older = len(rows) > size
    rows = rows[:size]
    return Page(rows, newer=rows[0].seq if rows and before is not None else None,
                older=rows[-1].seq if rows and more_older else None)


ACTION_WORDS = {
    "task.intent": "run starting", "task.outcome": "run ended", "task.request_approval": "approval requested",
    "run.approve": "approved", "run.reject": "rejected", "run.expire": "approval expired",
    "task.reconcile": "reconciled", "pii.reveal": "personal data revealed", "pii.search": "personal data searched",
    "ticket.dev_time": "developer time",
    "login.failed": "failed login", "user.role_change": "role changed", "audit.export": "trail exported",
}


def action_words(action: str) -> str:
    """An action in words for people ('approval requested'); the stored name stays what filters use."""
    return ACTION_WORDS.get(action) or (action or "").replace(".", " ").replace("_", " ")


@dataclass(frozen=True)
class Status:
    """How a page shows an entry's status: the words, the badge colour, and for an intent its outcome entry."""

    text: str
    tone: str  # a Bootstrap colour: success, danger, info, secondary
    outcome_seq: int | None = None
    outcome: str = ""


def _tone(outcome: str) -> str:
    return "success" if outcome == "succeeded" else "danger" if outcome in FAILED else \
        "info" if outcome in ("pending_approval", "approved") else "secondary"


def statuses(session: Session, entries: list, *, now: datetime, window_seconds: float) -> dict[int, Status]:
    """What each entry's status reads as, by seq.

    An intent is stored as `interrupted`, the run's state until its outcome is written; the stored text
    cannot change (it is hashed). So an intent reads as `started` and links to the entry that closed it;
    with none yet it is `running` inside the reconcile window and `interrupted` only after it.
    """
    intents = [e for e in entries if e.action == "task.intent" and e.subject_type == "task_run"]
    closers: dict[str, list] = {}
    if intents:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.subject_id, AuditEntry.outcome)
            .where(AuditEntry.subject_type == "task_run", AuditEntry.subject_id.in_({e.subject_id for e in intents}),
                   AuditEntry.action.in_(INTENT_CLOSERS))
            .order_by(AuditEntry.seq))
        for seq, subject_id, outcome in rows:
            closers.setdefault(subject_id, []).append((seq, outcome))
    shown, intent_seqs = {}, {e.seq for e in intents}
    for entry in entries:
        if entry.seq in intent_seqs:
            closer = next(((seq, outcome) for seq, outcome in closers.get(entry.subject_id, []) if seq > entry.seq),
                          None)
            if closer is not None:
                shown[entry.seq] = Status("started", "secondary", outcome_seq=closer[0], outcome=closer[1] or "")
            elif (now - entry.created_at).total_seconds() < window_seconds:
                shown[entry.seq] = Status("running", "info")
            else:
                shown[entry.seq] = Status("interrupted", "danger")
        elif entry.outcome:
            shown[entry.seq] = Status(entry.outcome.replace("_", " "), _tone(entry.outcome))
    return shown


def entries_after(session: Session, after: int, limit: int) -> list[AuditEntry]:
    """The next `limit` entries after seq `after`, in seq order (for shipping the trail elsewhere)."""
    query = select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
    return list(session.scalars(query))


def parsed_details(entry: AuditEntry):
    """The details as JSON values; the stored text itself if it is not JSON (it was tampered with)."""
    try:
        return json.loads(entry.details)
    except (TypeError, ValueError):
        return entry.details


def entry_record(entry: AuditEntry) -> dict:
    """An entry as the API gives it: every hashed field, created_at exactly as hashed, and the chain."""
    return {
        "seq": entry.seq, "created_at": timestamp(entry.created_at), "actor": entry.actor, "action": entry.action,
        "subject_type": entry.subject_type, "subject_id": entry.subject_id, "ticket": entry.ticket,
        "reason": entry.reason, "task": entry.task, "customer": entry.customer, "outcome": entry.outcome,
        "details": parsed_details(entry), "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


def export_csv(session: Session, flt: TrailFilter) -> Iterator[str]:
    """Yield the matching entries as CSV text, oldest first, a batch at a time; formulas neutralised."""
    conditions = _conditions(session, flt)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    if conditions is None:
        return
    last = 0
    while True:
        rows = session.execute(select(*(getattr(AuditEntry, name) for name in CSV_COLUMNS))
                               .where(*conditions, AuditEntry.seq > last)
                               .order_by(AuditEntry.seq).limit(EXPORT_BATCH)).all()
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([neutralize_formula(timestamp(value) if isinstance(value, datetime) else value)
                             for value in row])
        yield buffer.getvalue()
        last = rows[-1].seq
