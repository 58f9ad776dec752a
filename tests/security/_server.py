"""A real threaded HTTP server around an app, and a client that fires many requests at the same instant."""
from __future__ import annotations

import http.client
import json
import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app):
    """Serve the app on a free local port, one thread per request (as a threaded WSGI server does)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="security-test-server", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def post(port: int, path: str, body: dict, headers: dict) -> tuple[int, dict]:
    """One POST over a fresh connection (http.client: no proxy from the environment gets in the way)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def all_at_once(requests: list[tuple[str, dict, dict]], port: int) -> list[tuple[int, dict]]:
    """POST every (path, body, headers) from its own thread, released together by a barrier; answers in order."""
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def send(index: int, path: str, body: dict, headers: dict) -> None:
        barrier.wait(timeout=60)
        try:
            answers[index] = post(port, path, body, headers)
        except Exception as exc:  # reported as an answer, so one broken connection names itself in the test
            answers[index] = (0, {"exception": repr(exc)})

    threads = [threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers
