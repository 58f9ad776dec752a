"""One signed post: the headers a receiver checks, as docs/WEBHOOKS.md tells it to, and what answers mean."""
import re

import pytest

from console.webhooks.delivery import DeliveryFailed, post, signed_headers
from tests.webhooks.conftest import SECRET


def test_the_documented_check_accepts_a_signed_message_and_nothing_else(verify):
    body = b'{"text": "Run 7 awaits approval"}'
    headers = signed_headers(SECRET, 7, "approval.requested", body, now=1_800_000_000)

    assert headers["X-Console-Delivery"] == "7" and headers["X-Console-Event"] == "approval.requested"
    assert re.fullmatch(r"v1=[0-9a-f]{64}", headers["X-Console-Signature"])
    assert verify(SECRET, headers, body, now=1_800_000_000 + 60)
    assert not verify(SECRET, headers, body + b" ", now=1_800_000_000)  # a changed body
    assert not verify("another-secret-of-some-length", headers, body, now=1_800_000_000)
    assert not verify(SECRET, headers, body, now=1_800_000_000 + 301)  # a replay, outside the window
    assert not verify(SECRET, {**headers, "X-Console-Timestamp": "1800000001"}, body, now=1_800_000_000)


def test_a_post_carries_the_body_and_a_signature_the_receiver_can_check(receiver, verify):
    post(receiver.url, SECRET, 3, "escalation.created", b'{"text": "hello"}', timeout=3)

    [(headers, body)] = receiver.delivered()
    assert body == b'{"text": "hello"}' and headers["Content-Type"] == "application/json"
    assert verify(SECRET, headers, body)


@pytest.mark.parametrize("status, permanent", [(503, False), (500, False), (404, False), (401, False),
                                               (429, False), (302, False), (400, True), (413, True), (422, True)])
def test_an_answer_other_than_2xx_fails_and_only_a_refused_payload_is_permanent(receiver, status, permanent):
    receiver.status = status

    with pytest.raises(DeliveryFailed) as failed:
        post(receiver.url, SECRET, 1, "escalation.created", b"{}", timeout=3)

    assert str(failed.value) == f"HTTP {status}" and failed.value.permanent is permanent
    assert len(receiver.hits) == 1  # a redirect is not followed


def test_a_receiver_that_is_down_fails_for_a_retry(receiver):
    receiver.down()

    with pytest.raises(DeliveryFailed, match="ConnectionRefusedError|URLError") as failed:
        post(receiver.url, SECRET, 1, "escalation.created", b"{}", timeout=3)

    assert not failed.value.permanent
