"""A real OpenID Connect provider (the npm package oidc-provider) on loopback, for the sign-in tests.

`start_provider(folder, redirect_uris)` installs it on first use (`npm ci` in
tests/auth/oidc_provider/), starts it on a free port with a fresh RSA signing key, and
returns an OidcProvider: its issuer, the console's client, its key (so a test can also
sign tokens the provider would sign) and `sign_in(url, login)`, which plays the person at
the provider's login and consent pages and returns the URL it redirects back to.
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from joserfc.jwk import RSAKey

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "support-console"
# Logins at the provider, and the claims it vouches for.
ACCOUNTS = {
    "agent": {"email": "sso.agent@example.com", "email_verified": True, "name": "Sso Agent"},
    "unverified": {"email": "sso.unverified@example.com", "email_verified": False},
    "stranger": {"email": "nobody.here@example.com", "email_verified": True},
    "disabled": {"email": "sso.disabled@example.com", "email_verified": True},
    "demo-agent": {"email": "agent@example.com", "email_verified": True, "name": "Demo Agent"},
}
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _install() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PROVIDER_DIR, check=True,
                   timeout=300)


@dataclass
class OidcProvider:
    issuer: str
    client_secret: str
    key: RSAKey
    process: subprocess.Popen

    def config(self) -> dict:
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": self.client_secret}

    def sign_in(self, authorize_url: str, login: str) -> str:
        """Log in at the provider as `login`, consent, and return the redirect back to the console."""
        browser = requests.Session()
        url = authorize_url
        for _ in range(12):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            action = urljoin(url, unescape(_FORM_ACTION.search(response.text).group(1)))
            if 'name="login"' in response.text:
                form = {"prompt": "login", "login": login, "password": "any"}
            else:
                form = {"prompt": "consent"}
            response = browser.post(action, data=form, allow_redirects=False, timeout=10)
            url = urljoin(action, response.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError(f"the provider never sent the browser back; last URL {url}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stdout.close()


def start_provider(folder: Path, redirect_uris: list[str], *, issuer: str | None = None) -> OidcProvider:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for the OpenID Connect provider (apt-get install nodejs npm)")
    _install()
    port = free_port()
    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig", "alg": "RS256"})
    secret = secrets.token_urlsafe(32)
    issuer = issuer or f"http://127.0.0.1:{port}"
    config = {
        "port": port, "issuer": issuer, "accounts": ACCOUNTS,
        "jwks": {"keys": [key.as_dict(private=True)]},
        "clients": [{"client_id": CLIENT_ID, "client_secret": secret, "redirect_uris": redirect_uris,
                     "grant_types": ["authorization_code"], "response_types": ["code"],
                     "token_endpoint_auth_method": "client_secret_basic"}],
    }
    path = folder / f"oidc-provider-{port}.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(["node", str(PROVIDER_DIR / "provider.mjs"), str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    line = process.stdout.readline()
    while not line.startswith("ready"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"oidc-provider did not start: {line}{process.stdout.read()}")
        line = process.stdout.readline()
    # Keep reading what it prints, so a full pipe never stalls it.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return OidcProvider(issuer=f"http://127.0.0.1:{port}", client_secret=secret, key=key, process=process)
