"""The sender: every message reaches a receiver that was down, once, in order, signed; senders never collide."""
import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, update

from console.db import console_session, expect_writes, utcnow
from console.webhooks.models import WebhookMessage
from console.webhooks.outbox import destination_of, notify
from console.webhooks.sender import SenderSettings, WebhookSender, start_webhook_sender
from tests.webhooks.conftest import SECRET

FAST = {"WEBHOOK_SECRET": SECRET, "WEBHOOK_RETRY_BASE_SECONDS": 0.05, "WEBHOOK_RETRY_MAX_SECONDS": 0.2}


@pytest.fixture
def hooked(isolated_app, receiver):
    """An app on fresh databases whose webhook is the loopback receiver, with a short backoff."""
    return lambda **config: isolated_app(WEBHOOK_URL=receiver.url, **{**FAST, **config})


def queue(app, *texts: str) -> None:
    """Queue each text as its own event's message, one commit each."""
    with app.app_context():
        expect_writes()
        for text in texts:
            notify(console_session(), "escalation.created", "{text}", text=text)
            console_session().commit()


def outbox(app) -> list[WebhookMessage]:
    engine = create_engine(app.config["CONSOLE_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(WebhookMessage).order_by(WebhookMessage.id)))
    finally:
        engine.dispose()


def age(app, **values) -> None:
    engine = create_engine(app.config["CONSOLE_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(update(WebhookMessage).values(**values))
    engine.dispose()


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def sender_for(app, **options) -> WebhookSender:
    return WebhookSender(app.config["CONSOLE_DATABASE_URL"], SenderSettings.from_config(app.config), **options)


def texts(delivered) -> list[str]:
    return [json.loads(body)["text"] for _headers, body in delivered]


def test_a_receiver_that_was_down_gets_every_message_once_in_order(hooked, receiver, verify):
    receiver.down()  # connections are refused
    app = hooked()
    sender = start_webhook_sender(app)
    try:
        queue(app, "message 0", "message 1", "message 2")
        wait_for(lambda: outbox(app)[0].attempts >= 3)  # refused, retried, refused again
        receiver.status = 503
        receiver.up()
        queue(app, "message 3", "message 4")
        wait_for(lambda: len(receiver.hits) >= 2)  # up, but failing
        receiver.status = 200
        wait_for(lambda: all(row.status == "delivered" for row in outbox(app)))
    finally:
        sender.stop()

    delivered = receiver.delivered()
    assert texts(delivered) == [f"message {n}" for n in range(5)]
    assert [int(headers["X-Console-Delivery"]) for headers, _body in delivered] == [row.id for row in outbox(app)]
    assert all(verify(SECRET, headers, body) for headers, body in delivered)
    first = str(outbox(app)[0].id)
    # While the first message failed, nothing after it was tried.
    assert {headers["X-Console-Delivery"] for status, headers, _body in receiver.hits if status == 503} == {first}
    assert outbox(app)[0].attempts >= 5 and [row.attempts for row in outbox(app)[1:]] == [1, 1, 1, 1]


def test_a_failed_post_waits_for_its_backoff(hooked, receiver, caplog):
    receiver.down()
    app = hooked(WEBHOOK_RETRY_BASE_SECONDS=30, WEBHOOK_RETRY_MAX_SECONDS=300)
    queue(app, "one", "two")
    sender = sender_for(app)
    try:
        before = utcnow()
        assert sender.deliver_due() == 1  # the first failed; the second waits behind it
        assert sender.deliver_due() == 0  # not due yet: no hammering
    finally:
        sender.stop()

    first, second = outbox(app)
    assert (first.status, first.attempts, second.attempts) == ("pending", 1, 0)
    assert timedelta(seconds=29) < first.next_attempt_at - before < timedelta(seconds=31)
    assert "Connection refused" in first.last_error and "next in 30.0 s" in caplog.text


def test_the_backoff_doubles_up_to_its_cap():
    settings = SenderSettings(url="http://x", secret=SECRET, timeout=3, retry_base=1, retry_max=300,
                              give_up=timedelta(hours=24))

    assert [settings.backoff(n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert settings.backoff(10_000) == 300


def test_a_message_past_the_give_up_time_is_dead_and_logged_and_the_next_goes_out(hooked, receiver, caplog):
    receiver.down()
    app = hooked(WEBHOOK_GIVE_UP_HOURS=1, WEBHOOK_RETRY_BASE_SECONDS=30, WEBHOOK_RETRY_MAX_SECONDS=30)
    queue(app, "too old")
    age(app, created_at=utcnow() - timedelta(hours=2))
    queue(app, "fresh")
    sender = sender_for(app)
    try:
        with caplog.at_level(logging.ERROR, logger="console.webhooks.sender"):
            assert sender.deliver_due() == 2  # "too old" is given up, then "fresh" is tried, and fails too
        receiver.up()
        assert sender.deliver_due() == 0  # "fresh" waits for its backoff
        age(app, next_attempt_at=utcnow())
        assert sender.deliver_due() == 1
    finally:
        sender.stop()

    old, fresh = outbox(app)
    assert (old.status, fresh.status) == ("dead", "delivered")
    assert f"webhook message {old.id} (escalation.created) given up after 1 attempts" in caplog.text
    assert texts(receiver.delivered()) == ["fresh"]


def test_a_refused_payload_is_given_up_at_once(hooked, receiver):
    app = hooked()
    queue(app, "refused", "fine")
    receiver.answers = [400]
    sender = sender_for(app)
    try:
        assert sender.deliver_due() == 2
    finally:
        sender.stop()

    assert [(row.status, row.attempts, row.last_error) for row in outbox(app)] == [
        ("dead", 1, "HTTP 400"), ("delivered", 1, "")]


def test_a_leased_head_holds_the_queue_and_an_expired_lease_is_taken_over(hooked, receiver):
    app = hooked()
    queue(app, "leased", "after it")
    age(app, claimed_by="another-host:1:x", claimed_until=utcnow() + timedelta(minutes=1))
    sender = sender_for(app)
    try:
        assert sender.deliver_due() == 0 and receiver.hits == []  # not even "after it" jumps the queue
        age(app, claimed_until=utcnow() - timedelta(seconds=1))  # that sender died mid-post
        assert sender.deliver_due() == 2
    finally:
        sender.stop()

    assert texts(receiver.delivered()) == ["leased", "after it"]


def test_two_senders_at_once_deliver_each_message_exactly_once_in_order(hooked, receiver):
    receiver.delay = 0.01  # so that the senders overlap while posting
    app = hooked()
    count = 40
    senders = [sender_for(app, poll=0.01).start() for _ in range(2)]
    try:
        feeding = threading.Thread(target=queue, args=(app, *[f"m{n}" for n in range(count)]))
        feeding.start()
        feeding.join()
        wait_for(lambda: len(receiver.delivered()) >= count)
        time.sleep(0.3)  # room for a duplicate to show up
    finally:
        for sender in senders:
            sender.stop()

    assert texts(receiver.delivered()) == [f"m{n}" for n in range(count)]
    assert {row.status for row in outbox(app)} == {"delivered"}


def test_housekeeping_forgets_old_settled_messages_and_gives_up_on_a_former_url(hooked, receiver, caplog):
    app = hooked()
    queue(app, "old delivered", "old for another url", "recent")
    engine = create_engine(app.config["CONSOLE_DATABASE_URL"])
    with engine.begin() as conn:
        ids = [row.id for row in conn.execute(select(WebhookMessage.id).order_by(WebhookMessage.id))]
        conn.execute(update(WebhookMessage).where(WebhookMessage.id == ids[0])
                     .values(status="delivered", created_at=utcnow() - timedelta(days=31)))
        conn.execute(update(WebhookMessage).where(WebhookMessage.id == ids[1])
                     .values(destination=destination_of("https://old.example.com/hook"),
                             created_at=utcnow() - timedelta(days=2)))
    engine.dispose()
    sender = sender_for(app)
    try:
        sender.housekeep()
    finally:
        sender.stop()

    assert [(row.id, row.status) for row in outbox(app)] == [(ids[1], "dead"), (ids[2], "pending")]
    assert "1 webhook messages for a webhook URL no longer configured were given up" in caplog.text


def test_no_url_means_no_sender(app):
    assert start_webhook_sender(app) is None
