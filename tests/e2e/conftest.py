"""End-to-end fixtures: a real console (`support-console demo`) on a free loopback port, and headless Chromium.

The server runs on fresh SQLite files loaded by `demo-data`, whatever TEST_DATABASE_URL says:
these tests are about what a person sees, the database suites cover PostgreSQL.
One server serves the whole session; every test gets its own browser contexts (own cookies), so the
journeys do not depend on each other's order. Every page a test opens is watched for server errors (5xx)
and for errors in the browser console (a script blocked by the CSP, a missing asset).
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
from urllib.parse import urlsplit

import pytest

DEMO_PASSWORD = "e2e-demo-password"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "_artifacts" / "e2e"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CLI = [sys.executable, "-c", "from console.cli import main; main()"]
VIEWPORT = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_env(folder: Path) -> dict:
    """The environment the demo console runs in, on its own SQLite files in `folder`; its CLI commands too."""
    env = dict(os.environ)
    env.update({
        "CONSOLE_DATABASE_URL": f"sqlite:///{folder}/console.db",
        "TARGET_DATABASE_URL": f"sqlite:///{folder}/shop.db",
        "CONSOLE_INSTANCE_DIR": str(folder / "instance"),
        "CONSOLE_DEMO_PASSWORD": DEMO_PASSWORD,
        # One item per chunk: the bulk journey's 150 items then take seconds, long enough to pause by hand
        # (a pause takes effect between chunks, and a chunk of 100 finishes before a person can click).
        "CONSOLE_BULK_CHUNK_ITEMS": "1",
    })
    for name in ("TEST_DATABASE_URL", "SECRET_KEY", "CONSOLE_AUDIT_KEY"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """Start `support-console demo` on fresh SQLite files; yield (base URL, path of its output)."""
    folder = tmp_path_factory.mktemp("e2e")
    env = _demo_env(folder)
    port = _free_port()
    log_path = folder / "server.log"
    log = open(log_path, "w")
    # `demo` is what a new user runs: init, demo-data, then serve, with the demo notice on.
    proc = subprocess.Popen(CLI + ["demo", "--port", str(port), "--customers", "200"], env=env, cwd=folder,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the console exited: " + log_path.read_text()[-2000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("the console did not start: " + log_path.read_text()[-2000:])
    yield base, log_path
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    if os.environ.get("E2E_KEEP_SERVER_LOG"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "server.log")


@pytest.fixture
def demo_cli(demo_server):
    """Run a `support-console` command on the demo console's databases, as its operator would; its output."""
    folder = demo_server[1].parent

    def run(*args: str) -> str:
        done = subprocess.run(CLI + list(args), env=_demo_env(folder), cwd=folder, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="session")
def console_server(demo_server):
    """The base URL of the running demo console."""
    return demo_server[0]


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


@pytest.fixture(scope="session")
def saved_logins(browser, console_server, tmp_path_factory):
    """A cache of logged-in cookies by email, so that pages which are not about logging in skip the form."""
    folder = tmp_path_factory.mktemp("logins")
    cache: dict[str, str] = {}

    def state_for(email: str) -> str:
        if email not in cache:
            context = browser.new_context(base_url=console_server, viewport=VIEWPORT)
            page = context.new_page()
            login(page, email)
            path = folder / f"{email}.json"
            context.storage_state(path=str(path))
            context.close()
            cache[email] = str(path)
        return cache[email]

    return state_for


# Console errors that are known and reported, each with the page it happens on. Keep this list short.
KNOWN_CONSOLE_ERRORS: list[tuple[str, str]] = []


class PageProblems:
    """What went wrong while the test's pages were open: server errors and browser console errors."""

    def __init__(self):
        self.server_errors: list[str] = []
        self.console_errors: list[str] = []
        self.documents: set[str] = set()

    def watch(self, context):
        context.on("response", self._response)
        context.on("page", lambda page: page.on("console", self._console))

    def _response(self, response):
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")
        if response.request.resource_type == "document":
            self.documents.add(response.url)

    def _console(self, message):
        url = message.location.get("url")
        # Chromium logs a page's own 4xx status (a 403 page, a CSRF refusal) as an error; those pages are
        # expected in some tests and checked there. A failed script, style sheet or image is not.
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and url in self.documents:
            return
        if any(urlsplit(url).path == path and message.text.startswith(text) for path, text in KNOWN_CONSOLE_ERRORS):
            return
        self.console_errors.append(f"{message.text} at {url}")


@pytest.fixture
def new_page(browser, console_server, saved_logins):
    """new_page(as_user=None, bypass_csp=False, timezone_id=None, width=1280) -> a page in a fresh browser context
    (its own cookies), 1280x800 unless told.

    `as_user` starts it logged in as that email (no login form); `bypass_csp` is for injecting axe-core only;
    `timezone_id` is the browser's own time zone (an IANA name), the host's when None.
    """
    contexts = []
    problems = PageProblems()

    def make(as_user: str | None = None, bypass_csp: bool = False, timezone_id: str | None = None,
             width: int = VIEWPORT["width"]):
        context = browser.new_context(base_url=console_server, viewport=dict(VIEWPORT, width=width),
                                      accept_downloads=True, bypass_csp=bypass_csp, timezone_id=timezone_id,
                                      storage_state=saved_logins(as_user) if as_user else None)
        context.set_default_timeout(10_000)
        problems.watch(context)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert not problems.server_errors, f"server errors: {problems.server_errors}"
    assert not problems.console_errors, f"browser console errors: {problems.console_errors}"


def login(page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form, as a person does."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/**")


def start_ticket(page, ref: str) -> None:
    """From the home page, start working on a helpdesk ticket."""
    page.goto("/admin/")
    page.get_by_label("Helpdesk ticket reference").fill(ref)
    page.get_by_role("button", name="Start the ticket").click()
    page.wait_for_url("**/tickets/view?ref=*")


def screenshot(page, name: str, *, docs: bool = False) -> Path:
    """Save a full-page PNG under tests/_artifacts/e2e/.

    With `docs=True` and E2E_DOCS_SCREENSHOTS=1 in the environment it also refreshes
    docs/screenshots/<name>.png, the README's tour: the visible 1280x800 viewport only, to stay small.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("E2E_DOCS_SCREENSHOTS"):
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=False)
    return path


def main_text(page) -> str:
    """The visible text of the page's main landmark (the menu and the user's name left out)."""
    return page.locator("main").inner_text()


@pytest.fixture(scope="session")
def password_reset_run(browser, console_server, saved_logins):
    """A succeeded run (a password reset for alice on ticket T-900), done once: its path and its ticket."""
    from tests.e2e.journeys import preview_password_reset

    context = browser.new_context(base_url=console_server, viewport=VIEWPORT,
                                  storage_state=saved_logins("agent@example.com"))
    page = context.new_page()
    preview_password_reset(page, "T-900")
    page.get_by_role("button", name="Confirm and run").click()
    page.wait_for_url("**/admin/runs/*")
    path = page.url.removeprefix(console_server)
    context.close()
    return {"run": path, "ticket": "/admin/tickets/view?ref=T-900"}
