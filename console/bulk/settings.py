"""The bulk settings, read from the environment when the app is made (a bad value stops start-up, named).

CONSOLE_QUEUE_URL (redis://...) puts bulk work on RQ; without it the serving process works
through bulks itself. CONSOLE_QUEUE_NAME names the RQ queue (default console-bulk): consoles that share
one Redis database (staging and production, say) each need their own, or one's workers take the other's
jobs; the serving processes and the workers of one console must give the same.
CONSOLE_BULK_LEASE_SECONDS: how long a worker's claim on an item lasts (a crashed worker's items are
taken over after it); CONSOLE_BULK_STALL_SECONDS: a bulk with open
items whose worker has not been heard of for this long is queued again; CONSOLE_BULK_SWEEP_SECONDS:
how often workers look for such bulks; CONSOLE_BULK_CHUNK_ITEMS: how many items a worker claims
and runs as one batch (one intent commit, one target transaction, one outcome commit), which is
also how often it looks for a pause or a cancel. With the defaults a bulk carries on within two
minutes.
"""
from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from console.config import ConfigError, whole_number

MAX_ITEMS = 10_000
CHUNK = 100  # items claimed at once, and run as one batch (console.tasks.batch)
NUMBERS = {  # key: (environment variable, default)
    "BULK_LEASE_SECONDS": ("CONSOLE_BULK_LEASE_SECONDS", 60),
    "BULK_STALL_SECONDS": ("CONSOLE_BULK_STALL_SECONDS", 30),
    "BULK_SWEEP_SECONDS": ("CONSOLE_BULK_SWEEP_SECONDS", 15),
    "BULK_CHUNK_ITEMS": ("CONSOLE_BULK_CHUNK_ITEMS", CHUNK),
}
DEFAULT_QUEUE_NAME = "console-bulk"
_QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def load_bulk_config(config) -> None:
    """Fill the app config's bulk settings from the environment, unless the app was given them."""
    env = os.environ
    config.setdefault("QUEUE_URL", env.get("CONSOLE_QUEUE_URL", "").strip())
    url = config["QUEUE_URL"]
    if url and (urlsplit(url).scheme not in ("redis", "rediss", "unix") or not (urlsplit(url).hostname or
                                                                                urlsplit(url).path)):
        raise ConfigError("CONSOLE_QUEUE_URL must be a redis://host:port/db URL (or rediss://, unix://)")
    config.setdefault("QUEUE_NAME", env.get("CONSOLE_QUEUE_NAME", "").strip() or DEFAULT_QUEUE_NAME)
    if not isinstance(config["QUEUE_NAME"], str) or not _QUEUE_NAME.fullmatch(config["QUEUE_NAME"]):
        raise ConfigError("CONSOLE_QUEUE_NAME must be 1-100 letters, digits, '.', '_', ':' or '-', starting with a "
                          "letter or digit")
    for key, (variable, default) in NUMBERS.items():
        raw = config.get(key, env.get(variable, "").strip() or default)
        config[key] = whole_number(raw, variable)


def queue_url(config) -> str:
    return config.get("QUEUE_URL") or ""
