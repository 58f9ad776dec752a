"""The webhook sender: a thread of the serving process that posts the outbox, in order, with retries.

Each destination's messages go out one at a time, oldest first: a message is posted only
once every earlier one was delivered or given up. A failed post is retried after
CONSOLE_WEBHOOK_RETRY_BASE_SECONDS, doubling up to CONSOLE_WEBHOOK_RETRY_MAX_SECONDS; a
message still undelivered CONSOLE_WEBHOOK_GIVE_UP_HOURS after it was queued is marked
`dead` and logged. Any number of senders (workers, hosts) may run: the head of a queue is
claimed with a lease in a short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, the
write lock on SQLite), so only one of them posts it. Delivery is at least once: a sender
that dies between the receiver's 200 and saving it leaves the message to be posted again
when its lease ends, with the same X-Console-Delivery id.

The sender opens its own engine, without a pool, in the process that runs it: start it
after any fork.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from console.db import utcnow
from console.engines import is_postgres, make_engine
from console.webhooks.delivery import DeliveryFailed, post
from console.webhooks.models import WebhookMessage
from console.webhooks.outbox import destination_of

log = logging.getLogger(__name__)
CLAIMING = "webhook_claim"
KEEP_SETTLED = timedelta(days=30)
HOUSEKEEPING_SECONDS = 3600.0
LEASE_MARGIN_SECONDS = 30.0


@dataclass(frozen=True)
class SenderSettings:
    url: str
    secret: str
    timeout: float
    retry_base: float
    retry_max: float
    give_up: timedelta

    @classmethod
    def from_config(cls, config) -> SenderSettings | None:
        """The checked settings of console.config; None when no webhook URL is set."""
        if not config.get("WEBHOOK_URL"):
            return None
        return cls(url=config["WEBHOOK_URL"], secret=config["WEBHOOK_SECRET"],
                   timeout=config["WEBHOOK_TIMEOUT_SECONDS"], retry_base=config["WEBHOOK_RETRY_BASE_SECONDS"],
                   retry_max=config["WEBHOOK_RETRY_MAX_SECONDS"],
                   give_up=timedelta(hours=config["WEBHOOK_GIVE_UP_HOURS"]))

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the attempts-th failure: base, doubling, capped."""
        return min(self.retry_base * 2 ** min(attempts - 1, 40), self.retry_max)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    body: str


def _claiming(conn) -> bool:
    return conn.get_execution_options().get(CLAIMING, False)


class WebhookSender:
    """Posts one destination's outbox; `start()` runs it in a daemon thread until `stop()`."""

    def __init__(self, database_url: str, settings: SenderSettings, *, poll: float | None = None):
        self.engine = make_engine(database_url, write_lock=_claiming, poolclass=NullPool)
        self.settings = settings
        self.destination = destination_of(settings.url)
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.poll = min(1.0, settings.retry_base) if poll is None else poll
        self._lease = timedelta(seconds=settings.timeout + LEASE_MARGIN_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.settings.timeout + 10)
        self.engine.dispose()

    def _run(self) -> None:
        housekept = None
        while not self._stop.is_set():
            try:
                if housekept is None or time.monotonic() - housekept >= HOUSEKEEPING_SECONDS:
                    self.housekeep()
                    housekept = time.monotonic()
                self.deliver_due()
            except Exception:  # a database that is down now may be back at the next poll
                log.exception("webhook sender: the outbox could not be read; trying again in %s s", self.poll)
            self._stop.wait(self.poll)

    def _writing(self) -> Session:
        """A session whose transactions take SQLite's write lock when they begin."""
        return Session(self.engine.execution_options(**{CLAIMING: True}), expire_on_commit=False)

    def _head(self):
        first = (select(func.min(WebhookMessage.id))
                 .where(WebhookMessage.destination == self.destination, WebhookMessage.status == "pending")
                 .scalar_subquery())
        return select(WebhookMessage).where(WebhookMessage.id == first, WebhookMessage.status == "pending")

    @staticmethod
    def _is_due(message: WebhookMessage | None, now) -> bool:
        return (message is not None and message.next_attempt_at <= now
                and (message.claimed_until is None or message.claimed_until <= now))

    def deliver_due(self) -> int:
        """Post the due messages at the head of the queue, one after another; return how many were tried."""
        tried = 0
        while not self._stop.is_set():
            claimed = self._claim()
            if claimed is None:
                return tried
            try:
                post(self.settings.url, self.settings.secret, claimed.id, claimed.kind, claimed.body.encode(),
                     self.settings.timeout)
                failure = None
            except DeliveryFailed as exc:
                failure = exc
            self._settle(claimed, failure)
            tried += 1
        return tried

    def _claim(self) -> Claimed | None:
        """Lease the head of the queue when it is due and nobody holds it (a read first, to lock only then)."""
        with Session(self.engine) as session:
            if not self._is_due(session.scalar(self._head()), utcnow()):
                return None
        with self._writing() as session:
            # SKIP LOCKED: a head another sender is claiming is not ours to wait for. The
            # subquery names only the oldest pending message, so a later one is never taken.
            head = session.scalar(self._head().with_for_update(skip_locked=True))
            now = utcnow()
            if not self._is_due(head, now):
                return None
            head.claimed_by, head.claimed_until = self.name, now + self._lease
            head.attempts += 1
            claimed = Claimed(head.id, head.kind, head.body)
            session.commit()
            return claimed

    def _settle(self, claimed: Claimed, failure: DeliveryFailed | None) -> None:
        with self._writing() as session:
            query = select(WebhookMessage).where(WebhookMessage.id == claimed.id)
            message = session.scalar(query.with_for_update() if is_postgres(self.engine) else query)
            if message is None or message.claimed_by != self.name or message.status != "pending":
                log.warning("webhook message %s: its lease ended before its result was saved; it may be posted "
                            "twice", claimed.id)
                return
            now = utcnow()
            message.claimed_by = message.claimed_until = None
            if failure is None:
                message.status, message.delivered_at, message.last_error = "delivered", now, ""
            elif failure.permanent or now - message.created_at >= self.settings.give_up:
                message.status, message.last_error = "dead", str(failure)[:300]
                log.error("webhook message %s (%s) given up after %s attempts: %s", message.id, message.kind,
                          message.attempts, failure)
            else:
                delay = self.settings.backoff(message.attempts)
                message.next_attempt_at, message.last_error = now + timedelta(seconds=delay), str(failure)[:300]
                log.warning("webhook message %s (%s) not delivered (%s); attempt %s, next in %.1f s", message.id,
                            message.kind, failure, message.attempts, delay)
            session.commit()

    def housekeep(self) -> None:
        """Forget settled messages after 30 days; give up on old ones for a webhook URL no longer configured."""
        now = utcnow()
        with self._writing() as session:
            session.execute(delete(WebhookMessage).where(WebhookMessage.status.in_(("delivered", "dead")),
                                                         WebhookMessage.created_at < now - KEEP_SETTLED))
            orphans = session.execute(
                update(WebhookMessage)
                .where(WebhookMessage.status == "pending", WebhookMessage.destination != self.destination,
                       WebhookMessage.created_at < now - self.settings.give_up)
                .values(status="dead", last_error="queued for a webhook URL that is no longer configured"))
            session.commit()
        if orphans.rowcount:
            log.error("%s webhook messages for a webhook URL no longer configured were given up", orphans.rowcount)


def start_webhook_sender(app) -> WebhookSender | None:
    """Start this process's webhook sender (after any fork); None when no webhook URL is set."""
    settings = SenderSettings.from_config(app.config)
    if settings is None:
        return None
    sender = WebhookSender(app.config["CONSOLE_DATABASE_URL"], settings).start()
    app.extensions["webhook_sender"] = sender
    return sender
