"""Tickets, keyed by their helpdesk reference, the events that decide their outcome, and the rollups.

The rollups are kept current by `console.deflection.tickets.add_ticket_event`, so that the
dashboard and the stats API read a few thousand summed rows instead of millions of events.
Every change is summed twice: per day (grain "d") and per ISO week (grain "w", `day` is its
Monday). A range reads whole weeks from the weekly rows and only its ragged ends from the
daily ones, so two years cost about as much as four months.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.db import ConsoleBase, utcnow

EVENT_KINDS = ("runbook_viewed", "task_run", "resolved", "escalated", "dev_time", "reopened", "root_cause")
ESCALATION_CLASSES = ("knowledge", "small_change", "specialist")
ESCALATION_CLASS_HELP = {
    "knowledge": "I only needed to understand how to help the customer (a policy, what a status means).",
    "small_change": "A small data or code fix that most developers could make, but there is no task for it.",
    "specialist": "It needs the special skills of one or two people (payments disputes, security, data protection).",
}
OUTCOMES = ("open", "deflected_by_task", "deflected_by_runbook", "resolved", "escalated")
DEFLECTED = ("deflected_by_task", "deflected_by_runbook")


class Ticket(ConsoleBase):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    # Derived from the events by console.deflection.outcome; stored so stats can group on it.
    outcome: Mapped[str] = mapped_column(String(30), default="open")
    category: Mapped[str] = mapped_column(String(60), default="")
    team: Mapped[str] = mapped_column(String(60), default="support")
    customer: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the current outcome was reached: the first escalation, or the last resolution.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The rest is derived from the events too (see outcome.TicketFacts).
    task: Mapped[str] = mapped_column(String(100), default="")
    false_deflection: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_class: Mapped[str] = mapped_column(String(20), default="")
    missing_tool: Mapped[str] = mapped_column(String(200), default="")
    assignee: Mapped[str] = mapped_column(String(254), default="")
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalation_closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dev_minutes: Mapped[int] = mapped_column(Integer, default=0)

    events: Mapped[list["TicketEvent"]] = relationship(back_populates="ticket", lazy="raise",
                                                        order_by="TicketEvent.id")

    __table_args__ = (
        Index("ix_tickets_outcome_closed", "outcome", "closed_at"),
        Index("ix_tickets_created", "created_at"),
        # The ticket list: a customer's tickets, and those assigned to someone, newest first.
        Index("ix_tickets_customer", "customer", "id"),
        Index("ix_tickets_assignee", "assignee", "id"),
        # Open escalations, for the developer on duty: a small partial index, whatever the history's size.
        Index("ix_tickets_open_escalations", "escalated_at",
              sqlite_where=text("outcome = 'escalated' AND escalation_closed_at IS NULL"),
              postgresql_where=text("outcome = 'escalated' AND escalation_closed_at IS NULL")),
    )

    def __str__(self) -> str:
        return self.ref


class TicketEvent(ConsoleBase):
    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254), default="")
    task: Mapped[str] = mapped_column(String(100), default="")
    run_id: Mapped[int | None] = mapped_column(Integer)
    run_status: Mapped[str] = mapped_column(String(30), default="")
    # Set on the event of an undo run: the id of the run it undid.
    undo_of: Mapped[int | None] = mapped_column(Integer)
    runbook: Mapped[str] = mapped_column(String(120), default="")
    escalation_class: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    missing_tool: Mapped[str] = mapped_column(String(200), default="")
    # The developer on support duty when the escalation was made.
    assignee: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    # An urgent escalation notifies the developer at once; the others wait for the daily digest.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Left for the digest rather than sent at once (escalations only); those sent at once interrupted someone.
    batched: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Set on the event of a task run that is an item of a bulk: tool health counts those apart.
    bulk_id: Mapped[int | None] = mapped_column(Integer)

    ticket: Mapped[Ticket] = relationship(back_populates="events", lazy="raise")

    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
        Index("ix_ticket_events_kind_created", "kind", "created_at"),
        Index("ix_ticket_events_task_created", "task", "created_at"),
        Index("ix_ticket_events_runbook", "runbook", "ticket_id"),  # what became of tickets after a runbook
        Index("ix_ticket_events_actor", "actor", "ticket_id"),  # the tickets someone worked on ("mine")
    )


class TicketRollup(ConsoleBase):
    """Decided tickets per day (or week) and per everything the dashboard groups or filters by."""

    __tablename__ = "ticket_rollup"

    # The key is the primary key, and on SQLite the table is stored in key order (WITHOUT
    # ROWID): a date range is then one sequential read that holds every column it needs.
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(30), primary_key=True)
    escalation_class: Mapped[str] = mapped_column(String(20), primary_key=True)
    task: Mapped[str] = mapped_column(String(100), primary_key=True)
    false_deflection: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    missing_tool: Mapped[str] = mapped_column(String(200), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    dev_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Tickets with any developer time logged: the denominator of "mean developer minutes".
    timed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_ticket_rollup_outcome_day", "grain", "outcome", "day"),
        {"sqlite_with_rowid": False},
    )


class OutcomeRollup(ConsoleBase):
    """The same tickets as TicketRollup, summed over task and missing tool: what the rate and the funnel read."""

    __tablename__ = "ticket_outcome_rollup"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(30), primary_key=True)
    escalation_class: Mapped[str] = mapped_column(String(20), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class EventRollup(ConsoleBase):
    """Ticket events per day (or week), kind, subject (task, runbook or developer) and status."""

    __tablename__ = "ticket_event_rollup"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    subject: Mapped[str] = mapped_column(String(254), primary_key=True)
    status: Mapped[str] = mapped_column(String(30), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_ticket_event_rollup_kind", "grain", "kind", "day"),
        {"sqlite_with_rowid": False},
    )


class EscalationDigest(ConsoleBase):
    """One row per daily digest sent: its day is unique, so two workers never send the same day twice."""

    __tablename__ = "escalation_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The escalations it covered were made in [covers_from, sent_at).
    covers_from: Mapped[datetime] = mapped_column(DateTime)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    developers: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[str] = mapped_column(Text, default="")  # the developers it went to, comma-separated


class Sprint(ConsoleBase):
    """A sprint as the team records it: its days and its story points, planned and completed."""

    __tablename__ = "sprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    planned_points: Mapped[int] = mapped_column(Integer)
    completed_points: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_sprints_starts_on", "starts_on"),)


ACTION_KINDS = ("runbook", "task", "product_fix")
ACTION_KIND_LABELS = {"runbook": "a runbook to write", "task": "a task to build", "product_fix": "a product fix"}


class RootCause(ConsoleBase):
    """The 5-whys record of an escalation a developer closed, and the action that keeps it from coming back."""

    __tablename__ = "root_causes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254), default="")
    why_1: Mapped[str] = mapped_column(Text)
    why_2: Mapped[str] = mapped_column(Text)
    why_3: Mapped[str] = mapped_column(Text)
    why_4: Mapped[str] = mapped_column(Text)
    # The fifth why is the root cause; the dashboard groups on it (its case and spacing folded).
    root_cause: Mapped[str] = mapped_column(String(300))
    root_key: Mapped[str] = mapped_column(String(300))
    action_kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(300))
    action_link: Mapped[str] = mapped_column(String(500), default="")
    action_done_at: Mapped[datetime | None] = mapped_column(DateTime)
    action_done_by: Mapped[str] = mapped_column(String(254), default="")

    __table_args__ = (
        Index("ix_root_causes_created", "created_at"),
        Index("ix_root_causes_ticket", "ticket_id", "id"),
    )
