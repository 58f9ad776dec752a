"""The runner's settings: app config first, else the environment, checked at start-up.

| key | environment | default |
| --- | --- | --- |
| AMOUNT_CAPS | CONSOLE_AMOUNT_CAPS (JSON: role -> cents) | {"agent": 10000} |
| TASK_RATE_LIMITS | CONSOLE_TASK_RATE_LIMITS (JSON: task -> "N/second|minute|hour|day") | none |
| RECONCILE_AFTER_SECONDS | CONSOLE_RECONCILE_AFTER_SECONDS | 60 |
| IDEMPOTENCY_WAIT_SECONDS | CONSOLE_IDEMPOTENCY_WAIT_SECONDS | 15 |
| IDEMPOTENCY_KEEP_SECONDS | CONSOLE_IDEMPOTENCY_KEEP_SECONDS (at least 60) | 86400 |

A malformed value stops start-up with one line that names the variable: so does an unknown role
in AMOUNT_CAPS, and a task name in TASK_RATE_LIMITS or DISABLED_TASKS that no task package
declares (a typo there would silently turn a control off).
"""
from __future__ import annotations

import json
import os

from console.config import ConfigError
from console.tasks.policy import check_policy_config

NUMBERS = {  # key: (environment variable, default, least value)
    "RECONCILE_AFTER_SECONDS": ("CONSOLE_RECONCILE_AFTER_SECONDS", 60.0, 0),
    "IDEMPOTENCY_WAIT_SECONDS": ("CONSOLE_IDEMPOTENCY_WAIT_SECONDS", 15.0, 0),
    # A key forgotten at once would make every retry a second run.
    "IDEMPOTENCY_KEEP_SECONDS": ("CONSOLE_IDEMPOTENCY_KEEP_SECONDS", 86400.0, 60),
}
MAPPINGS = {"AMOUNT_CAPS": "CONSOLE_AMOUNT_CAPS", "TASK_RATE_LIMITS": "CONSOLE_TASK_RATE_LIMITS"}


def load_task_settings(config) -> None:
    """Fill in the runner's settings from the environment and check them (ConfigError)."""
    env = os.environ
    for key, variable in MAPPINGS.items():
        if key not in config and env.get(variable, "").strip():
            try:
                config[key] = json.loads(env[variable])
            except ValueError:
                raise ConfigError(f"{variable} is not valid JSON: {env[variable][:80]!r}") from None
    for key, (variable, default, least) in NUMBERS.items():
        raw = config.get(key, env.get(variable, default))
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if not least <= value <= 86400 or isinstance(raw, bool):
            raise ConfigError(f"{key} ({variable}) must be a number of seconds from {least} to 86400, not {raw!r}")
        config[key] = value
    try:
        check_policy_config(config)
    except ValueError as exc:
        variable = next((v for key, v in MAPPINGS.items() if str(exc).startswith(key)), "")
        raise ConfigError(f"{exc}" + (f" (from {variable} or the app config)" if variable else "")) from None


def check_task_names(config, registry) -> None:
    """Refuse start-up when TASK_RATE_LIMITS or DISABLED_TASKS names a task that does not exist (ConfigError)."""
    known = {spec.name for spec in registry.all_specs()}
    packages = ", ".join(config.get("TASK_PACKAGES") or ())
    for variable, names in (("CONSOLE_TASK_RATE_LIMITS", list(config.get("TASK_RATE_LIMITS") or {})),
                            ("DISABLED_TASKS", list(registry.disabled))):
        unknown = sorted(str(name) for name in names if name not in known)
        if unknown:
            raise ConfigError(f"{variable}: no task named {unknown[0]!r} in {packages} (check the spelling)")
