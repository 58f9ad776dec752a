"""A chat service on loopback for the sender's tests: it can answer, fail, or be down altogether."""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SECRET = "test-webhook-secret-" + "s" * 20
DOC = Path(__file__).resolve().parents[2] / "docs" / "WEBHOOKS.md"


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        receiver = self.server.receiver
        with receiver.lock:
            status = receiver.answers.pop(0) if receiver.answers else receiver.status
            receiver.hits.append((status, dict(self.headers), body))
        if receiver.delay:
            threading.Event().wait(receiver.delay)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


class Receiver:
    """Answers `answers` in turn, then `status`, and keeps (status, headers, body) of each POST; down() refuses
    connections."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hits: list[tuple[int, dict, bytes]] = []
        self.status, self.delay, self.answers = 200, 0.0, []
        self.port = 0
        self._server = None
        self.up()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Hook)  # the same port again
        self._server.receiver = self
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[tuple[dict, bytes]]:
        """(headers, body) of the posts answered 2xx, in the order they arrived."""
        with self.lock:
            return [(headers, body) for status, headers, body in self.hits if 200 <= status < 300]


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.down()


@pytest.fixture(scope="session")
def verify():
    """The receiver's check, exactly as docs/WEBHOOKS.md prints it: verify(secret, headers, body) -> bool."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    names: dict = {}
    exec(compile(code, str(DOC), "exec"), names)  # noqa: S102 (our own documentation)
    return names["verify_console_webhook"]
