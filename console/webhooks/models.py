"""The webhook outbox: chat messages written with the event they tell of, sent later in order."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from console.db import ConsoleBase, utcnow

STATUSES = ("pending", "delivered", "dead")


class WebhookMessage(ConsoleBase):
    __tablename__ = "webhook_outbox"

    # The id is the delivery id receivers deduplicate on, so SQLite must never reuse one.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A fingerprint of the webhook URL, never the URL itself: a chat's webhook URL is a secret.
    destination: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(40))
    # The exact bytes to post, fixed when queued: every retry is signed over the same body.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A sender's lease on the head of its destination's queue while it posts.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (
        Index("ix_webhook_outbox_destination_status_id", "destination", "status", "id"),
        Index("ix_webhook_outbox_status_created", "status", "created_at"),
        {"sqlite_autoincrement": True},
    )
