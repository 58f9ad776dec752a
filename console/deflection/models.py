"""Tickets, keyed by their helpdesk reference, and the events that decide their outcome."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.db import ConsoleBase, utcnow

EVENT_KINDS = ("runbook_viewed", "task_run", "resolved", "escalated", "dev_time", "reopened", "root_cause")
ESCALATION_CLASSES = ("knowledge", "small_change", "specialist")
OUTCOMES = ("open", "deflected_by_task", "deflected_by_runbook", "resolved", "escalated")


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
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    events: Mapped[list["TicketEvent"]] = relationship(back_populates="ticket", lazy="raise",
                                                        order_by="TicketEvent.id")

    __table_args__ = (
        Index("ix_tickets_outcome_closed", "outcome", "closed_at"),
        Index("ix_tickets_created", "created_at"),
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
    runbook: Mapped[str] = mapped_column(String(120), default="")
    escalation_class: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(60), default="")
    missing_tool: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(Integer, default=0)

    ticket: Mapped[Ticket] = relationship(back_populates="events", lazy="raise")

    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
        Index("ix_ticket_events_kind_created", "kind", "created_at"),
        Index("ix_ticket_events_task_created", "task", "created_at"),
    )
