"""Configuration read from the environment (README.md, "Configuration", lists every variable)."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The shipped demo shop: its records, schema and tasks live under admin_tasks/.
DEFAULT_PRODUCT_PACKAGE = "admin_tasks.shop"
DEMO_TASK_PACKAGES = ["admin_tasks"]
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message says how to fix it."""


def instance_dir() -> Path:
    return Path(os.environ.get("CONSOLE_INSTANCE_DIR", "instance")).resolve()


def _instance_secret(name: str) -> str:
    """Return a secret kept in instance/, generating it on first use (demo only)."""
    path = instance_dir() / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


MYSQL_BACKENDS = ("mysql", "mariadb")


def normalize_db_url(url: str, variable: str, *, mysql: bool = False) -> str:
    """Validate a database URL and resolve relative SQLite paths against the cwd.

    `mysql` allows MySQL/MariaDB, which only the target database may be.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{variable} is not a valid database URL: {url!r}. "
            "Expected e.g. sqlite:///instance/shop.db or postgresql+psycopg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend in MYSQL_BACKENDS and not mysql:
        raise ConfigError(f"{variable}: the console's own database must be SQLite or PostgreSQL, not {backend}")
    if backend not in ("sqlite", "postgresql", *(MYSQL_BACKENDS if mysql else ())):
        allowed = "sqlite, postgresql or mysql" if mysql else "sqlite or postgresql"
        raise ConfigError(f"{variable}: unsupported database {backend!r}; use {allowed}")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            path = Path.cwd() / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=False)


def whole_number(raw, variable: str, *, at_least: int = 1) -> int:
    """A setting that counts something, at least `at_least`; ConfigError naming `variable` otherwise."""
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or int(text) < at_least:
        raise ConfigError(f"{variable} must be a whole number of at least {at_least}, not {text[:40]!r}")
    return int(text)


def check_sign_in(cfg: dict) -> None:
    """Single sign-on needs all three settings and a safe issuer; someone must be able to log in."""
    flag = str(cfg["PASSWORD_LOGIN"]).strip().lower()
    if flag not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ConfigError(f"CONSOLE_PASSWORD_LOGIN must be 1 or 0, not {flag[:20]!r}")
    cfg["PASSWORD_LOGIN"] = flag in ("1", "true", "yes", "on")
    issuer = cfg["OIDC_ISSUER"]
    if not issuer:
        if not cfg["PASSWORD_LOGIN"]:
            raise ConfigError("CONSOLE_PASSWORD_LOGIN=0 needs CONSOLE_OIDC_ISSUER: otherwise nobody can log in")
        return
    for variable, key in (("CONSOLE_OIDC_CLIENT_ID", "OIDC_CLIENT_ID"), ("CONSOLE_OIDC_CLIENT_SECRET", "OIDC_CLIENT_SECRET")):
        if not cfg[key]:
            raise ConfigError(f"{variable} is not set; single sign-on (CONSOLE_OIDC_ISSUER) needs it")
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback) or not parts.hostname:
        raise ConfigError(f"CONSOLE_OIDC_ISSUER must be an https:// URL (http only on loopback), not {issuer[:100]!r}")
def _number(raw, variable: str, least: float, most: float) -> float:
    """A positive amount (seconds, hours) within bounds; ConfigError naming `variable` otherwise."""
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = -1.0
    if isinstance(raw, bool) or not least < value <= most:
        raise ConfigError(f"{variable} must be a number above {least:g} and at most {most:g}, not {str(raw)[:40]!r}")
    return value


# key: (environment variable, default, exclusive least, most)
WEBHOOK_NUMBERS = {
    "WEBHOOK_TIMEOUT_SECONDS": ("CONSOLE_WEBHOOK_TIMEOUT_SECONDS", 3, 0, 300),
    "WEBHOOK_RETRY_BASE_SECONDS": ("CONSOLE_WEBHOOK_RETRY_BASE_SECONDS", 1, 0, 3600),
    "WEBHOOK_RETRY_MAX_SECONDS": ("CONSOLE_WEBHOOK_RETRY_MAX_SECONDS", 300, 0, 86400),
    "WEBHOOK_GIVE_UP_HOURS": ("CONSOLE_WEBHOOK_GIVE_UP_HOURS", 24, 0, 24 * 30),
}
MIN_WEBHOOK_SECRET = 16


def _check_webhook(cfg: dict) -> None:
    """Check the webhook settings: an http(s) URL, always with a signing secret (docs/WEBHOOKS.md)."""
    for key, (variable, default, least, most) in WEBHOOK_NUMBERS.items():
        cfg[key] = _number(cfg.get(key, default), variable, least, most)
    if cfg["WEBHOOK_RETRY_MAX_SECONDS"] < cfg["WEBHOOK_RETRY_BASE_SECONDS"]:
        raise ConfigError("CONSOLE_WEBHOOK_RETRY_MAX_SECONDS must be at least CONSOLE_WEBHOOK_RETRY_BASE_SECONDS")
    url = cfg["WEBHOOK_URL"] = (cfg.get("WEBHOOK_URL") or "").strip()
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("CONSOLE_WEBHOOK_URL must be an http:// or https:// URL with a host")
    # Unsigned messages are never sent: a receiver could not tell ours from anyone's.
    if len(cfg.get("WEBHOOK_SECRET") or "") < MIN_WEBHOOK_SECRET:
        raise ConfigError(f"CONSOLE_WEBHOOK_SECRET must be set, at least {MIN_WEBHOOK_SECRET} characters, when "
                          "CONSOLE_WEBHOOK_URL is: every webhook is signed with it (see docs/WEBHOOKS.md)")


def _check_product(cfg: dict) -> None:
    """PRODUCT_PACKAGE is a dotted module name; without TASK_PACKAGES, tasks come from the product package.

    The demo shop's tasks are loaded only with the demo shop (or when TASK_PACKAGES names them).
    """
    package = cfg["PRODUCT_PACKAGE"]
    if not isinstance(package, str) or not _DOTTED.match(package):
        raise ConfigError(f"PRODUCT_PACKAGE must be a dotted Python package name, not {str(package)[:80]!r}")
    if not cfg.get("TASK_PACKAGES"):
        cfg["TASK_PACKAGES"] = default_task_packages(package)


def default_task_packages(product_package: str) -> list[str]:
    """Where tasks come from without TASK_PACKAGES: the demo shop's task plugins, else the product package."""
    return list(DEMO_TASK_PACKAGES) if product_package == DEFAULT_PRODUCT_PACKAGE else [product_package]


def _csv(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def load_config(overrides: dict | None = None, *, demo: bool = False, instance_secrets: bool = False) -> dict:
    """Build the app configuration from the environment, then apply overrides.

    With `instance_secrets` (the demo and the command-line tools, which serve no browser),
    missing keys come from files kept in instance/; `serve` and wsgi.py require them.
    """
    env = os.environ
    overrides = dict(overrides or {})
    demo = demo or bool(overrides.get("DEMO"))
    instance_secrets = instance_secrets or demo
    cfg: dict = {
        "DEMO": demo,
        "CONSOLE_DATABASE_URL": env.get("CONSOLE_DATABASE_URL", "sqlite:///instance/console.db"),
        "TARGET_DATABASE_URL": env.get("TARGET_DATABASE_URL", "sqlite:///instance/shop.db"),
        "SECRET_KEY": env.get("SECRET_KEY"),
        "CONSOLE_AUDIT_KEY": env.get("CONSOLE_AUDIT_KEY"),
        "CONSOLE_RATELIMIT_STORAGE_URI": env.get("CONSOLE_RATELIMIT_STORAGE_URI", "memory://"),
        "RUNBOOKS_DIR": env.get("RUNBOOKS_DIR", str(PROJECT_ROOT / "runbooks")),
        "PRODUCT_PACKAGE": env.get("PRODUCT_PACKAGE", "").strip() or DEFAULT_PRODUCT_PACKAGE,
        "TASK_PACKAGES": _csv(env.get("TASK_PACKAGES")) or None,
        "DISABLED_TASKS": _csv(env.get("DISABLED_TASKS")),
        "HELPDESK_URL_TEMPLATE": env.get("HELPDESK_URL_TEMPLATE", ""),
        "WEBHOOK_URL": env.get("CONSOLE_WEBHOOK_URL", ""),
        "WEBHOOK_SECRET": env.get("CONSOLE_WEBHOOK_SECRET", ""),
        **{key: env[variable] for key, (variable, *_rest) in WEBHOOK_NUMBERS.items() if env.get(variable, "").strip()},
        "SESSION_IDLE_MINUTES": whole_number(env.get("CONSOLE_SESSION_IDLE_MINUTES", "").strip() or 60, "CONSOLE_SESSION_IDLE_MINUTES"),
        "SESSION_ABSOLUTE_HOURS": whole_number(env.get("CONSOLE_SESSION_ABSOLUTE_HOURS", "").strip() or 12, "CONSOLE_SESSION_ABSOLUTE_HOURS"),
        "APPROVAL_TTL_HOURS": whole_number(env.get("CONSOLE_APPROVAL_TTL_HOURS", "").strip() or 24, "CONSOLE_APPROVAL_TTL_HOURS"),
        "DISPLAY_TIMEZONE": env.get("CONSOLE_TIMEZONE", "UTC"),
        # How many proxies in front of the console append to X-Forwarded-For; 0 ignores the header.
        "TRUSTED_PROXIES": whole_number(env.get("CONSOLE_TRUSTED_PROXIES", "").strip() or 0, "CONSOLE_TRUSTED_PROXIES",
                                        at_least=0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("CONSOLE_HTTPS", "") == "1",
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,
        # No request needs more; an unbounded body is a memory-exhaustion lever.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "FLASK_ADMIN_SWATCH": "cerulean",
        "LOG_FORMAT": env.get("CONSOLE_LOG_FORMAT", "").strip().lower() or "text",
        "METRICS_TOKEN": env.get("CONSOLE_METRICS_TOKEN", ""),
        "OIDC_ISSUER": env.get("CONSOLE_OIDC_ISSUER", "").strip(),
        "OIDC_CLIENT_ID": env.get("CONSOLE_OIDC_CLIENT_ID", "").strip(),
        "OIDC_CLIENT_SECRET": env.get("CONSOLE_OIDC_CLIENT_SECRET", ""),
        "PASSWORD_LOGIN": env.get("CONSOLE_PASSWORD_LOGIN", "1").strip() or "1",
    }
    cfg.update(overrides)
    if instance_secrets:
        cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or _instance_secret("secret_key")
        cfg["CONSOLE_AUDIT_KEY"] = cfg["CONSOLE_AUDIT_KEY"] or _instance_secret("audit_key")
    if not cfg["SECRET_KEY"]:
        raise ConfigError(
            "SECRET_KEY is not set. Set it in the environment, e.g. "
            "export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
            "or run `support-console demo` for a throwaway demo."
        )
    if not cfg["CONSOLE_AUDIT_KEY"]:
        raise ConfigError(
            "CONSOLE_AUDIT_KEY is not set. It signs audit checkpoints and must be kept outside "
            "the database: export CONSOLE_AUDIT_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if cfg["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError(f"CONSOLE_LOG_FORMAT must be text or json, not {str(cfg['LOG_FORMAT'])[:40]!r}")
    if cfg["METRICS_TOKEN"] and len(cfg["METRICS_TOKEN"]) < 24:
        raise ConfigError("CONSOLE_METRICS_TOKEN must be at least 24 characters (a guessable token opens /metrics)")
    check_sign_in(cfg)
    _check_webhook(cfg)
    _check_product(cfg)
    cfg["CONSOLE_DATABASE_URL"] = normalize_db_url(cfg["CONSOLE_DATABASE_URL"], "CONSOLE_DATABASE_URL")
    cfg["TARGET_DATABASE_URL"] = normalize_db_url(cfg["TARGET_DATABASE_URL"], "TARGET_DATABASE_URL", mysql=True)
    return cfg
