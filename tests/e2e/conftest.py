"""End-to-end fixtures: a real console (gunicorn) on a free loopback port, and headless Chromium.

The server runs on fresh SQLite files loaded by `demo-data`, whatever TEST_DATABASE_URL says:
these tests are about what a person sees, the database suites cover PostgreSQL.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

DEMO_PASSWORD = "e2e-demo-password"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts" / "e2e"
CLI = [sys.executable, "-c", "from console.cli import main; main()"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def console_server(tmp_path_factory):
    """Start `support-console serve` on demo data; yield its base URL."""
    folder = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ)
    env.update({
        "CONSOLE_DATABASE_URL": f"sqlite:///{folder}/console.db",
        "TARGET_DATABASE_URL": f"sqlite:///{folder}/shop.db",
        "CONSOLE_INSTANCE_DIR": str(folder / "instance"),
        "CONSOLE_DEMO_PASSWORD": DEMO_PASSWORD,
    })
    for name in ("TEST_DATABASE_URL", "SECRET_KEY", "CONSOLE_AUDIT_KEY"):
        env.pop(name, None)
    port = _free_port()
    log = open(folder / "server.log", "w")
    # `demo` is what a new user runs: init, demo-data, then serve, with the demo notice on.
    proc = subprocess.Popen(CLI + ["demo", "--port", str(port), "--customers", "200"], env=env, cwd=folder,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("the console did not start: " + (folder / "server.log").read_text()[-2000:])
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, console_server):
    """new_page() -> a page in a fresh browser context (its own cookies), at 1280x800."""
    contexts = []

    def make():
        context = browser.new_context(base_url=console_server, viewport={"width": 1280, "height": 800},
                                      accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/**")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
