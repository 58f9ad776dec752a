"""Journey: an agent signs in through the company's identity provider (a real oidc-provider) in Chromium."""
from __future__ import annotations

import os
import subprocess
import time
import urllib.request

import pytest

from tests.auth.oidc import free_port, start_provider
from tests.e2e.conftest import CLI, DEMO_PASSWORD, VIEWPORT, screenshot


@pytest.fixture(scope="module")
def sso_console(tmp_path_factory):
    """`support-console demo` with single sign-on to a provider on loopback, password login off."""
    folder = tmp_path_factory.mktemp("sso")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = start_provider(folder, [f"{base}/login/sso/callback"])
    env = {key: value for key, value in os.environ.items()
           if key not in ("TEST_DATABASE_URL", "SECRET_KEY", "CONSOLE_AUDIT_KEY")}
    env.update({
        "CONSOLE_DATABASE_URL": f"sqlite:///{folder}/console.db", "TARGET_DATABASE_URL": f"sqlite:///{folder}/shop.db",
        "CONSOLE_INSTANCE_DIR": str(folder / "instance"), "CONSOLE_DEMO_PASSWORD": DEMO_PASSWORD,
        "CONSOLE_OIDC_ISSUER": provider.issuer, "CONSOLE_OIDC_CLIENT_ID": "support-console",
        "CONSOLE_OIDC_CLIENT_SECRET": provider.client_secret, "CONSOLE_PASSWORD_LOGIN": "0",
    })
    log_path = folder / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(CLI + ["demo", "--port", str(port), "--customers", "50"],
                                  env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        provider.stop()


def test_an_agent_signs_in_with_single_sign_on(browser, sso_console):
    context = browser.new_context(base_url=sso_console, viewport=VIEWPORT)
    # The provider's sign-in page asks for a web font; nothing here may leave the machine.
    context.route("**/*", lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_())
    errors = []
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and page.url.startswith(sso_console) else None)
    page.goto("/login")
    assert page.locator("input[name=password]").count() == 0  # password login is off
    screenshot(page, "sso-login")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.fill("input[name=login]", "demo-agent")
    page.fill("input[name=password]", "anything")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{sso_console}/admin/**")
    assert "agent@example.com" in page.content() or "Agent" in page.locator("nav").inner_text()
    screenshot(page, "sso-home")
    assert not errors, errors
    context.close()
