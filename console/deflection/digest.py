"""Interruptions batched: urgent escalations notify at once, the rest wait for one daily digest.

A developer on duty is interrupted by every message that reaches them. An escalation marked
urgent is sent the moment it is made (`escalation.created`); any other waits for the digest
sent once a day at DIGEST_TIME (CONSOLE_DIGEST_TIME, HH:MM in CONSOLE_TIMEZONE), one message
per developer listing what arrived since the last digest (`escalation.digest`). With
`CONSOLE_DIGEST_TIME=off` every escalation is sent at once, as before digests existed.

A serving process checks every minute whether the day's digest is due (DigestKeeper);
`support-console deflection digest` does the same from cron. The digest's day is unique in
`escalation_digests`, so however many workers or hosts run the check, a day is sent once.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.config import ConfigError
from console.db import console_session, expect_writes, utcnow
from console.deflection.models import EscalationDigest, Ticket, TicketEvent
from console.formatting import UTC_ZONE, zone_from_config
from console.ticking import Ticker
from console.webhooks.outbox import notify

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0
LISTED = 20  # tickets named in one developer's digest; the rest are counted
FIRST_WINDOW = timedelta(days=1)


def parse_digest_time(value) -> time | None:
    """CONSOLE_DIGEST_TIME as a time of day; None for `off`. ConfigError names the setting."""
    if value is None or isinstance(value, time):
        return value
    text = str(value).strip().lower()
    if text in ("off", "none", "0", ""):
        return None
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"CONSOLE_DIGEST_TIME must be a time of day written HH:MM (e.g. 09:30) or off, "
                          f"not {value!r}") from None


def batching(config=None) -> bool:
    """Whether escalations that are not urgent wait for the digest."""
    config = config if config is not None else current_app.config
    return config.get("DIGEST_TIME") is not None


def notifies_at_once(urgent: bool, config=None) -> bool:
    return urgent or not batching(config)


def due_day(now: datetime, config=None) -> date | None:
    """The local day whose digest is due at `now` (naive UTC), or None before the digest time or when off."""
    config = config if config is not None else current_app.config
    at = config.get("DIGEST_TIME")
    if at is None:
        return None
    local = now.replace(tzinfo=UTC_ZONE).astimezone(zone_from_config(config.get("DISPLAY_TIMEZONE")))
    return local.date() if local.time() >= at else None


@dataclass(frozen=True)
class Waiting:
    """A developer's escalations that waited for the digest."""

    developer: str
    tickets: list[tuple[str, str]]  # (ref, what: class and category)


def waiting_escalations(session: Session, since: datetime, until: datetime) -> list[Waiting]:
    """The escalations made in [since, until) that waited for a digest, by developer (the ones on duty)."""
    rows = session.execute(
        select(TicketEvent.assignee, Ticket.ref, TicketEvent.escalation_class, TicketEvent.category)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "escalated", TicketEvent.created_at >= since, TicketEvent.created_at < until,
               TicketEvent.batched.is_(True))
        .order_by(TicketEvent.assignee, TicketEvent.id)).all()
    by_developer: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for assignee, ref, escalation_class, category in rows:
        what = ", ".join(filter(None, ((escalation_class or "").replace("_", " "), category)))
        by_developer[assignee or ""].append((ref, what))
    return [Waiting(developer, tickets) for developer, tickets in by_developer.items()]


def _message(waiting: Waiting) -> tuple[str, dict]:
    shown = "; ".join(f"{ref} ({what})" if what else ref for ref, what in waiting.tickets[:LISTED])
    more = len(waiting.tickets) - LISTED
    template = "Daily digest for {developer}: {count} escalations waiting: {tickets}"
    fields = {"developer": waiting.developer or "nobody on duty", "count": len(waiting.tickets), "tickets": shown}
    if more > 0:
        template, fields["more"] = template + " and {more} more", more
    return template, fields


def send_digest(session: Session, now: datetime | None = None, *, force: bool = False) -> EscalationDigest | None:
    """Write today's digest (one webhook message per developer with escalations waiting) if due; no commit.

    None when it is not due, or when this day's digest was already sent (by this or another worker).
    `force` sends now even before the digest time (the CLI's `--now`), still once a day.
    """
    now = now or utcnow()
    day = due_day(now)
    if day is None:
        if not force:
            return None
        local_zone = zone_from_config(current_app.config.get("DISPLAY_TIMEZONE"))
        day = now.replace(tzinfo=UTC_ZONE).astimezone(local_zone).date()
    if session.scalar(select(EscalationDigest.id).where(EscalationDigest.day == day)) is not None:
        return None
    last = session.scalar(select(func.max(EscalationDigest.sent_at)))
    since = last or now - FIRST_WINDOW
    waiting = waiting_escalations(session, since, now)
    digest = EscalationDigest(day=day, sent_at=now, covers_from=since,
                              escalations=sum(len(w.tickets) for w in waiting), developers=len(waiting),
                              recipients=",".join(w.developer for w in waiting if w.developer))
    session.add(digest)
    try:
        session.flush()  # the unique day: a second worker fails here and sends nothing
    except IntegrityError:
        session.rollback()
        return None
    for each in waiting:
        template, fields = _message(each)
        notify(session, "escalation.digest", template, **fields)
    return digest


class DigestKeeper(Ticker):
    """A daemon thread of a serving process that sends the day's digest once it is due."""

    name = "escalation-digest"
    failure = "could not send the escalation digest"

    def __init__(self, app, *, tick: float = TICK_SECONDS):
        self.app = app
        super().__init__(tick)

    def check_once(self) -> EscalationDigest | None:
        with self.app.app_context():
            expect_writes()
            session = console_session()
            digest = send_digest(session)
            session.commit()
            return digest

    def step(self) -> None:
        digest = self.check_once()
        if digest is not None:
            log.info("sent the escalation digest of %s: %s escalations for %s developers",
                     digest.day, digest.escalations, digest.developers)


def start_digest_keeper(app) -> DigestKeeper | None:
    """Start this process's digest check (after any fork); None when digests are off."""
    if not batching(app.config):
        return None
    return DigestKeeper(app).start()


@dataclass(frozen=True)
class DeveloperInterruptions:
    """One developer's interruptions before the first digest and since, with the days each side spans."""

    developer: str
    before: int  # escalations sent at once, each an interruption
    after_at_once: int  # urgent ones (or all, while digests were off)
    after_digests: int  # digests that reached them
    after_escalations: int  # every escalation since, each of which would have interrupted without digests

    @property
    def after(self) -> int:
        return self.after_at_once + self.after_digests


@dataclass(frozen=True)
class InterruptionReport:
    rows: list[DeveloperInterruptions]
    switch: date | None  # the first day digests covered; None: no digest yet, everything is "before"
    before_days: int
    after_days: int


def _per_day(count: int, days: int) -> float | None:
    return round(count / days, 2) if days else None


def interruptions(session: Session, start: date, end: date) -> InterruptionReport:
    """Messages that reached each developer per day, before digests began and since (both ends inclusive)."""
    first = session.scalar(select(func.min(EscalationDigest.covers_from)))
    switch = first.date() if first else None
    since, until = datetime.combine(start, time()), datetime.combine(end + timedelta(days=1), time())
    cut = datetime.combine(switch, time()) if switch else until
    cut = min(max(cut, since), until)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    after = TicketEvent.created_at >= cut
    rows = session.execute(
        select(TicketEvent.assignee, after, TicketEvent.batched, func.count())
        .where(TicketEvent.kind == "escalated", TicketEvent.created_at >= since, TicketEvent.created_at < until)
        .group_by(TicketEvent.assignee, after, TicketEvent.batched)).all()
    for assignee, is_after, batched, count in rows:
        row = counts[assignee or ""]
        if is_after:
            row[3] += count
            if not batched:
                row[1] += count
        elif not batched:
            row[0] += count
    for (recipients,) in session.execute(select(EscalationDigest.recipients)
                                         .where(EscalationDigest.sent_at >= since,
                                                EscalationDigest.sent_at < until)):
        for developer in filter(None, recipients.split(",")):
            counts[developer][2] += 1
    report = [DeveloperInterruptions(developer, *numbers) for developer, numbers in sorted(counts.items())]
    before_days = (cut - since).days
    return InterruptionReport(report, switch, before_days, (until - cut).days)


def interruption_rows(report: InterruptionReport) -> list[dict]:
    """The report as the page and the API show it: counts and per-day rates on each side."""
    return [{"developer": row.developer or "nobody on duty",
             "before": row.before, "before_per_day": _per_day(row.before, report.before_days),
             "after": row.after, "after_urgent": row.after_at_once, "after_digests": row.after_digests,
             "after_per_day": _per_day(row.after, report.after_days),
             "after_without_digests_per_day": _per_day(row.after_escalations, report.after_days)}
            for row in report.rows]
