"""Schemathesis against a live console: `support-console serve` on fresh databases with demo data.

Every operation of GET /api/v1/openapi.json is called with schema-valid and schema-violating data
(fixed seed, bounded examples) by several roles, and every check runs: no 5xx, every status and
answer as the document says. The admin's run also follows the document's links (create a run, then
read, approve, reject and undo it).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-c", "from console.cli import main; main()"]
SCHEMATHESIS = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()"]
SEED = 17
# (role, the demo user, examples per operation, phases): the admin may call everything, so its run goes
# deepest; the other roles' runs prove what they are refused, and the agent's what an agent may do.
RUNS = [
    ("admin", "admin@example.com", 6, "examples,coverage,fuzzing,stateful"),
    ("agent", "agent@example.com", 3, "coverage,fuzzing"),
    ("developer", "dev@example.com", 2, "coverage"),
    ("product_owner", "po@example.com", 2, "coverage"),
    ("lead", "lead@example.com", 2, "coverage"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(env: dict, *args: str, cwd: Path) -> str:
    result = subprocess.run(CLI + list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"support-console {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _post(base: str, path: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:  # a refusal is a set-up run too
        return json.load(exc)


@pytest.fixture(scope="module")
def live_console(test_databases, tmp_path_factory):
    """A served console with demo data, a token per role and runs in each state; yields (base URL, tokens)."""
    folder = tmp_path_factory.mktemp("openapi_live")
    urls = test_databases.create()
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env.update({"CONSOLE_DATABASE_URL": urls["console"], "TARGET_DATABASE_URL": urls["target"],
                "SECRET_KEY": "openapi-live-secret-key", "CONSOLE_AUDIT_KEY": "openapi-live-audit-key-" + "k" * 24,
                "CONSOLE_DEMO_PASSWORD": "openapi-live-password", "PYTHONPATH": str(HERE.parents[1])})
    _cli(env, "init", cwd=folder)
    _cli(env, "demo-data", "--customers", "40", "--history-days", "14", cwd=folder)
    tokens = {role: _cli(env, "tokens", "create", email, "--name", "schemathesis", cwd=folder).strip().splitlines()[-1]
              for role, email, _, _ in RUNS}
    port = _free_port()
    log_path = folder / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(CLI + ["serve", "--port", str(port)], env=env, cwd=folder, stdout=log,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, last = time.monotonic() + 120, ""
        while True:
            assert server.poll() is None, "the console exited: " + log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, f"the console did not start ({last}): {log_path.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=10):
                    break
            except urllib.error.HTTPError as exc:
                last = exc.read().decode()
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.2)
        # Runs in each state, requested by an agent: the admin's run can approve, reject, undo and read them.
        for task, params in (("refund_order", {"order_id": 1004, "amount_cents": 20000}),
                             ("unlock_account", {"email": "locked@example.com"}),
                             ("refund_order", {"order_id": 1004, "amount_cents": 15000}),
                             ("cancel_order", {"order_id": 1002})):
            _post(base, f"/api/v1/tasks/{task}/runs", tokens["agent"],
                  {"params": params, "ticket": "T-OPENAPI", "reason": "set-up for schemathesis"})
        yield base, tokens, log_path
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.parametrize("role, email, examples, phases", RUNS, ids=[run[0] for run in RUNS])
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(live_console, tmp_path, role,
                                                                               email, examples, phases):
    base, tokens, log_path = live_console
    command = SCHEMATHESIS + [
        "--config-file", str(HERE / "schemathesis.toml"), "run", f"{base}/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {tokens[role]}", "--max-examples", str(examples),
        "--seed", str(SEED), "--phases", phases, "--generation-database", "none", "--no-color",
        "--report", "junit", "--report-dir", str(tmp_path), "--request-timeout", "20", "--workers", "1",
        "--max-failures", "20"]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=420, cwd=tmp_path)
    elapsed = time.monotonic() - started
    summary = result.stdout[-6000:]
    assert result.returncode == 0, (f"schemathesis as {role} failed after {elapsed:.0f} s:\n{result.stdout}\n"
                                    f"{result.stderr}\nserver log tail:\n{log_path.read_text()[-3000:]}")
    generated = next((line.strip() for line in summary.splitlines() if re.match(r"\s*\d+ generated", line)), "?")
    print(f"{role}: {generated} in {elapsed:.0f} s")  # shown with -rA: the cases and time of each role
    assert "Tested:" in summary and "0/" not in summary.split("Tested:")[0][-20:], summary
