"""Configuration read from the environment (README.md, "Configuration", lists every variable)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def normalize_db_url(url: str, variable: str) -> str:
    """Validate a database URL and resolve relative SQLite paths against the cwd."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{variable} is not a valid database URL: {url!r}. "
            "Expected e.g. sqlite:///instance/shop.db or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{variable}: unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            path = Path.cwd() / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=False)


def whole_number(raw, variable: str) -> int:
    """A setting that counts something, at least 1; ConfigError naming `variable` otherwise."""
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{variable} must be a whole number of at least 1, not {text[:40]!r}")
    return int(text)


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
        "TASK_PACKAGES": _csv(env.get("TASK_PACKAGES")) or ["admin_tasks"],
        "DISABLED_TASKS": _csv(env.get("DISABLED_TASKS")),
        "HELPDESK_URL_TEMPLATE": env.get("HELPDESK_URL_TEMPLATE", ""),
        "WEBHOOK_URL": env.get("CONSOLE_WEBHOOK_URL", ""),
        "SESSION_IDLE_MINUTES": whole_number(env.get("CONSOLE_SESSION_IDLE_MINUTES", "").strip() or 60, "CONSOLE_SESSION_IDLE_MINUTES"),
        "SESSION_ABSOLUTE_HOURS": whole_number(env.get("CONSOLE_SESSION_ABSOLUTE_HOURS", "").strip() or 12, "CONSOLE_SESSION_ABSOLUTE_HOURS"),
        "APPROVAL_TTL_HOURS": whole_number(env.get("CONSOLE_APPROVAL_TTL_HOURS", "").strip() or 24, "CONSOLE_APPROVAL_TTL_HOURS"),
        "DISPLAY_TIMEZONE": env.get("CONSOLE_TIMEZONE", "UTC"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("CONSOLE_HTTPS", "") == "1",
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,
        # No request needs more; an unbounded body is a memory-exhaustion lever.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "FLASK_ADMIN_SWATCH": "cerulean",
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
    cfg["CONSOLE_DATABASE_URL"] = normalize_db_url(cfg["CONSOLE_DATABASE_URL"], "CONSOLE_DATABASE_URL")
    cfg["TARGET_DATABASE_URL"] = normalize_db_url(cfg["TARGET_DATABASE_URL"], "TARGET_DATABASE_URL")
    return cfg
