"""The chat webhook: Slack-compatible JSON, in the background, never raising into the caller."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from console.notify import notify


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers["Content-Type"], json.loads(body)))
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    server.received, server.status, server.delay = [], 200, 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def hook_app(app, monkeypatch, webhook):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", f"http://127.0.0.1:{webhook.server_port}/hook")
    return app


def test_a_notification_posts_slack_compatible_json(hook_app, webhook):
    with hook_app.app_context():
        sent = notify("Run 7 awaits approval")
    sent.join(5)

    assert webhook.received == [("application/json", {"text": "Run 7 awaits approval"})]


def test_no_url_means_no_notification(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", "")

    assert notify("nothing", app=app) is None


def test_only_http_urls_are_used(app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", "file:///etc/passwd")

    assert notify("nothing", app=app) is None
    assert "must be an http(s) URL" in caplog.text


def test_a_failing_webhook_is_logged_and_never_raised(hook_app, webhook, caplog):
    webhook.status = 500

    sent = notify("boom", app=hook_app)
    sent.join(5)

    assert not sent.is_alive() and webhook.received[0][1] == {"text": "boom"}
    assert "webhook notification to 127.0.0.1" in caplog.text and "HTTPError" in caplog.text


def test_a_slow_webhook_does_not_hold_the_caller(hook_app, webhook, monkeypatch, caplog):
    webhook.delay = 1.0
    monkeypatch.setitem(hook_app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.2)

    sent = notify("slow", app=hook_app)
    waiting = sent.is_alive()  # notify returned while the post still waits for the webhook
    sent.join(5)

    assert waiting and not sent.is_alive()
    assert "timed out" in caplog.text


def test_an_unreachable_webhook_is_logged(app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", "http://127.0.0.1:9/hook")

    sent = notify("nobody listens", app=app)
    sent.join(5)

    assert "webhook notification to 127.0.0.1:9 failed" in caplog.text


def test_long_texts_are_cut(hook_app, webhook):
    notify("x" * 5000, app=hook_app).join(5)

    assert len(webhook.received[0][1]["text"]) == 3000
