"""What the console records about runbook use: searches that found nothing, and checklist ticks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from console.db import ConsoleBase, utcnow

MAX_QUERY_LENGTH = 200
MAX_CHECK_ID_LENGTH = 200


class RunbookSearchMiss(ConsoleBase):
    """A runbook search that found nothing: a "runbook gap" for the product owner."""

    __tablename__ = "runbook_search_misses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(MAX_QUERY_LENGTH))
    # The normalised terms, so "Can't login?" and "cannot log in" count as one gap.
    terms: Mapped[str] = mapped_column(String(MAX_QUERY_LENGTH), default="")
    actor: Mapped[str] = mapped_column(String(254), default="")
    ticket: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_runbook_search_misses_created", "created_at"),
        Index("ix_runbook_search_misses_terms_created", "terms", "created_at"),
    )


class RunbookTick(ConsoleBase):
    """One tick or untick of a runbook checklist item on a ticket; the latest per item wins."""

    __tablename__ = "runbook_ticks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    runbook: Mapped[str] = mapped_column(String(120))
    check_id: Mapped[str] = mapped_column(String(MAX_CHECK_ID_LENGTH))
    ticked: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_runbook_ticks_ticket_runbook", "ticket_id", "runbook", "id"),)
