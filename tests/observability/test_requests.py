"""Request ids: answered, stamped on audit entries, and on the JSON log line of a served request."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from console.audit.models import AuditEntry
from console.observability.requests import json_handler


def test_every_answer_carries_a_request_id_and_a_callers_id_is_kept(client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login").headers["X-Request-ID"]
    assert len(first) == 16 and first != second
    assert client.get("/login", headers={"X-Request-ID": "proxy-id-1234"}).headers["X-Request-ID"] == "proxy-id-1234"
    # Anything that does not look like an id is replaced, so a log line cannot be forged through it.
    forged = client.get("/login", headers={"X-Request-ID": 'x" level=error'}).headers["X-Request-ID"]
    assert forged != 'x" level=error' and forged.isalnum()


def test_a_request_answered_early_still_has_an_id(client):
    # The CSRF check answers this POST before any view runs.
    assert client.post("/login", data={"email": "a@example.com"}).headers["X-Request-ID"]


def test_audit_entries_name_the_request_that_wrote_them(client, auth, console_db):
    response = auth.login("nobody@example.com", "wrong")
    entry = console_db.query(AuditEntry).filter_by(action="login.failed").order_by(AuditEntry.seq.desc()).first()
    assert json.loads(entry.details)["request_id"] == response.headers["X-Request-ID"]


def test_the_json_handler_writes_one_object_per_record(app, tmp_path):
    import io
    import logging

    stream = io.StringIO()
    logger = logging.getLogger("tests.observability.json")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(json_handler(stream))
    try:
        with app.test_request_context(headers={"X-Request-ID": "req-abcdef12"}):
            app.preprocess_request()
            logger.warning("refund refused", extra={"task": "refund_order"})
        logger.info("outside a request")
    finally:
        logger.handlers.clear()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "refund refused" and first["level"] == "WARNING" and first["task"] == "refund_order"
    assert first["request_id"] == "req-abcdef12" and first["logger"] == "tests.observability.json"
    assert second["request_id"] is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="the served process's logging does not depend on the database")
def test_serve_with_json_logs_writes_one_line_per_request_with_its_id(tmp_path):
    env = {**os.environ, "CONSOLE_LOG_FORMAT": "json", "SECRET_KEY": "s" * 40, "CONSOLE_AUDIT_KEY": "a" * 40,
           "CONSOLE_DATABASE_URL": f"sqlite:///{tmp_path}/console.db", "TARGET_DATABASE_URL": f"sqlite:///{tmp_path}/shop.db"}
    subprocess.run([sys.executable, "-c", "from console.cli import main; main()", "init"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-c", "from console.cli import main; main()", "serve", "--port", str(port)], env=env,
                                  cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/login",
                                                 headers={"X-Request-ID": "served-req-0001"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.headers["X-Request-ID"] == "served-req-0001"
                break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "console.access"]
    assert any(line["request_id"] == "served-req-0001" and line["route"] == "/login" and line["status"] == 200
               and line["method"] == "GET" and line["duration_ms"] >= 0 for line in access), lines
    assert all("?" not in str(line.get("route")) for line in access)
