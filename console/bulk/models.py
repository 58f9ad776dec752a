"""A bulk: one decision over a list of items, each item a task run of its own."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from console.db import ConsoleBase, utcnow

BULK_STATUSES = ("pending_approval", "queued", "running", "paused", "cancelled", "finished", "rejected")
# Bulks whose items may still be worked through. A `paused` bulk is not: its workers claim no new item
# (one running finishes) until it is resumed, `queued` again.
WORKABLE = ("queued", "running")
# An item is `pending` until a worker claims it (`running`, under a lease); it then ends as its run did,
# or `cancelled` when its bulk was cancelled first. `interrupted` follows its run once that is reconciled.
ITEM_STATUSES = ("pending", "running", "succeeded", "refused", "failed", "interrupted", "pending_approval",
                 "rejected", "cancelled")
OPEN_ITEMS = ("pending", "running")


class Bulk(ConsoleBase):
    __tablename__ = "bulk_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    ticket: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="api")
    # The requester, and the issuer of the API token they asked with: neither may approve the bulk
    # (the attribute names are a run's, so that four-eyes reads both the same way).
    actor: Mapped[str] = mapped_column(String(254))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    token_issuer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    total: Mapped[int] = mapped_column(Integer)
    # The items' amounts summed: up to MAX_ITEMS times a run's 32-bit cap, so 64 bits.
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 of the task, ticket, reason and every item's parameters: what an approval is bound to.
    items_hash: Mapped[str] = mapped_column(String(64))
    approval_reasons: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(254))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When a worker last claimed items of this bulk (or a sweep queued it): a bulk whose heartbeat is
    # old while items are open has lost its worker, and is queued again.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_bulk_runs_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_bulk_runs_ticket", "ticket"),
    )


class BulkItem(ConsoleBase):
    __tablename__ = "bulk_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulk_id: Mapped[int] = mapped_column(ForeignKey("bulk_runs.id"))
    idx: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("task_runs.id"))
    error: Mapped[str] = mapped_column(Text, default="")
    # A claim: who works the item, until when; `attempts` > 1 means an earlier claim was lost (a crash).
    owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("bulk_id", "idx", name="uq_bulk_items_bulk_idx"),
        Index("ix_bulk_items_bulk_status_idx", "bulk_id", "status", "idx"),
        Index("ix_bulk_items_run", "run_id"),
    )

    @property
    def params_data(self) -> dict:
        return json.loads(self.params or "{}")
