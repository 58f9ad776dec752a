"""The append-only, hash-chained audit trail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from console.db import ConsoleBase

GENESIS = "0" * 64  # the hash that the first entry chains from

class AuditEntry(ConsoleBase):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(120), default="")
    ticket: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    task: Mapped[str] = mapped_column(String(100), default="")
    customer: Mapped[str] = mapped_column(String(254), default="")
    outcome: Mapped[str] = mapped_column(String(30), default="")
    # Canonical JSON of params (secrets redacted), changes and anything else, exactly as hashed.
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    # Every filter of the audit view has a (column, seq) index, so a filtered page is one
    # short index range read in seq order, however long the trail grows.
    __table_args__ = (
        Index("ix_audit_entries_created_at", "created_at"),
        Index("ix_audit_entries_actor_seq", "actor", "seq"),
        Index("ix_audit_entries_ticket_seq", "ticket", "seq"),
        Index("ix_audit_entries_task_seq", "task", "seq"),
        Index("ix_audit_entries_customer_seq", "customer", "seq"),
        Index("ix_audit_entries_subject", "subject_type", "subject_id"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_outcome_seq", "outcome", "seq"),
    )


class AuditHead(ConsoleBase):
    """One row holding the chain's tip; updating it first serialises writers on both databases."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # The newest signed checkpoint's seq and time, kept beside the tip so that append learns
    # whether one is due from the row it locks anyway, instead of a SELECT per entry. NULL
    # (none yet) means one is due. Only a hint for scheduling: verify reads the checkpoints.
    checkpoint_seq: Mapped[int | None] = mapped_column(Integer)
    checkpoint_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditCheckpoint(ConsoleBase):
    """A signed statement 'the chain reached seq N with hash H', HMAC'd with a key outside the database."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    mac: Mapped[str] = mapped_column(String(64))
    # Unused: checkpoints are append-only like the entries; results live in AuditVerification.
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditVerification(ConsoleBase):
    """The outcome of one `audit verify` run, shown on the home page."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    entries: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)  # the head the run checked up to
    checkpoint_seq: Mapped[int | None] = mapped_column(Integer)  # the newest checkpoint that verified
    checkpoint_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_bad_seq: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[str] = mapped_column(Text, default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(String(254), default="cli")  # cli, or the staff email of "Verify now"
