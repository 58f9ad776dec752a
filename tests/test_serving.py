"""`serve` and `demo` as real processes: safe to start on fresh databases, time after time.

Before the master closed its connections and the checkpoint keeper moved into the workers, the master's SQLite
connections crossed gunicorn's fork and the worker answered "database is locked" or hung (1 to 7 starts in 8).
Each start here logs in over HTTP, and then looks at the processes themselves: the master holds no database
connection (nothing it could hand to a worker it forks later) and no worker holds a file its master deleted.
"""
from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from console.cli import main
from tests.conftest import csrf_token_from

CLI = [sys.executable, "-c", "from console.cli import main; main()"]
PASSWORD = "serve-test-password"
STARTS = 5

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc to see open connections")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_env(test_databases, tmp_path, monkeypatch):
    """fresh_env() -> (environment for a console process on brand-new databases, their URLs)."""
    project = str(Path(__file__).resolve().parents[1])

    def make():
        urls = test_databases.create()
        folder = tmp_path / f"start-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
        env.update({"CONSOLE_DATABASE_URL": urls["console"], "TARGET_DATABASE_URL": urls["target"],
                    "CONSOLE_INSTANCE_DIR": str(folder / "instance"), "CONSOLE_DEMO_PASSWORD": PASSWORD,
                    "SECRET_KEY": "s" * 40, "CONSOLE_AUDIT_KEY": "k" * 40,
                    "PYTHONPATH": os.pathsep.join(filter(None, [project, os.environ.get("PYTHONPATH")]))})
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return env, urls, folder

    return make


def _load_in_this_process(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the console exited:\n" + log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the console did not answer /healthz:\n" + log.read_text()[-3000:])


def _log_in_and_open_home(base: str) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + "/login", timeout=20) as page:
        token = csrf_token_from(page.read().decode())
    form = urllib.parse.urlencode({"csrf_token": token, "email": "agent@example.com", "password": PASSWORD})
    with opener.open(base + "/login", form.encode(), timeout=20) as answer:
        assert answer.url.endswith("/admin/"), answer.url
    with opener.open(base + "/admin/", timeout=20) as home:
        return home.status


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _open_files(pid: int) -> list[str]:
    files = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            files.append(os.readlink(fd))
        except OSError:  # closed in the meantime
            pass
    return files


def _tcp_peers(pid: int) -> set[int]:
    """The remote ports of the process's TCP connections."""
    inodes = {name[len("socket:["):-1] for name in _open_files(pid) if name.startswith("socket:[")}
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def _database_connections(pid: int, urls: dict) -> list[str]:
    """What the process holds open of the databases: SQLite files, or TCP connections to the server."""
    held = []
    for url in map(make_url, urls.values()):
        if url.get_backend_name() == "sqlite":
            held += [name for name in _open_files(pid) if name.startswith(url.database)]
        elif (url.port or 5432) in _tcp_peers(pid):
            held.append(f"a connection to port {url.port or 5432}")
    return held


def _serve_and_check(command: list[str], env: dict, urls: dict, folder: Path) -> None:
    port = _free_port()
    log = folder / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(CLI + command + ["--port", str(port)], env=env, cwd=folder, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process, log)
        try:
            assert _log_in_and_open_home(base) == 200
        except (urllib.error.URLError, TimeoutError) as exc:
            raise AssertionError(f"{exc}; server log:\n{log.read_text()[-3000:]}") from None
        assert _database_connections(process.pid, urls) == [], "the master holds database connections"
        for worker in _children(process.pid):
            deleted = [name for name in _open_files(worker) if name.endswith("(deleted)") and ".db" in name]
            assert deleted == [], f"worker {worker} holds files its master deleted"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_starts_on_fresh_databases_every_time(fresh_env):
    for _ in range(STARTS):
        env, urls, folder = fresh_env()
        _load_in_this_process("init")
        _load_in_this_process("demo-data", "--customers", "20", "--history-days", "3")
        _serve_and_check(["serve"], env, urls, folder)


def test_demo_loads_then_serves_without_handing_its_connections_to_the_workers(fresh_env):
    env, urls, folder = fresh_env()
    _serve_and_check(["demo", "--customers", "20"], env, urls, folder)
