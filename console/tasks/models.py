"""Task runs and the idempotency keys that replay them."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from console.db import ConsoleBase, utcnow
from console.jsontext import Encoded

# "interrupted" is also the state of a run between its audit intent and its outcome: a healthy
# run leaves it within milliseconds, a crash leaves it there until reconciled.
STATUSES = ("pending_approval", "succeeded", "failed", "refused", "rejected", "interrupted")
FINAL_STATUSES = ("succeeded", "failed", "refused", "rejected")
SOURCES = ("web", "api", "cli")


class TaskRun(ConsoleBase):
    __tablename__ = "task_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    ticket: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(254))
    # The requester's staff row, and the issuer of the API token the request came with: four-eyes
    # keeps both from deciding the run. Runs from before these columns have no actor_id.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    token_issuer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # JSON text; secrets are "[redacted]".
    params: Mapped[str] = mapped_column(Text, default="{}")
    # JSON list of {"table", "key", "before", "after"}: the preview while pending, the real diff after.
    changes: Mapped[str] = mapped_column(Text, default="[]")
    effects: Mapped[str] = mapped_column(Text, default="[]")
    result: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    risk: Mapped[str] = mapped_column(String(10), default="low")
    source: Mapped[str] = mapped_column(String(10), default="web")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the audit intent was written: the start of the window a crash can interrupt.
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Who decided a run that needed approval (for a rejected run: who rejected it), when and why.
    approved_by: Mapped[str | None] = mapped_column(String(254))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    approval_reasons: Mapped[str] = mapped_column(Text, default="")
    preview_hash: Mapped[str] = mapped_column(String(64), default="")
    undo_of: Mapped[int | None] = mapped_column(ForeignKey("task_runs.id"))
    # Set on the original while its undo runs or once it succeeded: a run is undone at most once.
    undone_by: Mapped[int | None] = mapped_column(Integer)
    customer: Mapped[str] = mapped_column(String(254), default="")
    order_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # What the policy counts over 24 hours: the cents a run moves (its Money parameters, summed), and
    # the contact address it sets (a task's declared `sets_address` parameter).
    amount_cents: Mapped[int | None] = mapped_column(Integer)
    address_set: Mapped[str | None] = mapped_column(String(254))
    # The bulk (console.bulk) the run is an item of; None for a single run. No foreign key: the tasks domain
    # sits below bulk and does not know its table.
    bulk_id: Mapped[int | None] = mapped_column(Integer)
    # The record of the product package the run was on, as its task states it (offered_on), and the value its
    # record_param took (console.tasks.spec.record_of): how any product's record page finds its runs.
    record: Mapped[str | None] = mapped_column(String(63))
    record_key: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (
        Index("ix_task_runs_record_created", "record", "record_key", "created_at"),
        Index("ix_task_runs_task_created", "task", "created_at"),
        Index("ix_task_runs_ticket_created", "ticket", "created_at"),
        Index("ix_task_runs_customer_created", "customer", "created_at"),
        Index("ix_task_runs_order_created", "order_id", "created_at"),
        Index("ix_task_runs_status_created", "status", "created_at"),
        Index("ix_task_runs_actor_task_created", "actor", "task", "created_at"),
        Index("ix_task_runs_undo_of", "undo_of"),
        Index("ix_task_runs_address_set", "address_set"),
        Index("ix_task_runs_bulk_id", "bulk_id"),
    )

    @property
    def params_data(self) -> dict:
        return json.loads(self.params or "{}")

    @property
    def params_json(self) -> Encoded:
        """The parameters as stored: JSON text encoded once when the run was made, which the audit places as is."""
        return Encoded(self.params or "{}")

    @property
    def changes_data(self) -> list:
        return json.loads(self.changes or "[]")

    @property
    def effects_data(self) -> list:
        return json.loads(self.effects or "[]")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def __str__(self) -> str:
        return f"Run {self.id} ({self.task}, {self.status})"


class IdempotencyKey(ConsoleBase):
    """A claimed Idempotency-Key; the unique constraint makes concurrent duplicates resolve to one run."""

    __tablename__ = "task_idempotency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(254))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("task_runs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("actor", "key", name="uq_task_idempotency_keys_actor_key"),)
