"""The one way a value becomes JSON: the API's answers, a run's stored parameters and changes, the audit trail.

`jsonable` gives plain JSON types (string keys, finite numbers, dates as ISO text, enums as their
values, Decimals as text, bytes as hex); `canonical_json` writes the one text of a value (sorted
keys, no spaces, UTF-8 kept as is), which the audit hashes. `encode` does both once; what it gives,
`Encoded`, is carried along as text and placed as it is wherever it goes, never parsed again.
"""
from __future__ import annotations

import enum
import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from json.encoder import encode_basestring as quote  # the C encoder json.dumps uses for ensure_ascii=False
from typing import Any, Callable

REDACTED = "[redacted]"


class Encoded(str):
    """JSON text that `encode` made (canonical, plain): `canonical_json` places it as it is."""


def text(value: str) -> str:
    """A string any store can hold and hash.

    PostgreSQL text cannot hold NUL, and a lone surrogate (possible from JSON's \\ud800) cannot be
    encoded; either would make a write fail.
    """
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def jsonable(value: Any, *, secret: Callable[[str], bool] | None = None) -> Any:
    """Plain JSON types only; with `secret`, the value of every key it names (at any depth) is REDACTED."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Encoded):  # made by encode: already plain, and with a secret rule looked into
        return value if secret is None else jsonable(json.loads(value), secret=secret)
    if isinstance(value, int):
        return int(value)  # an IntEnum becomes its number
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {text(str(key)): (REDACTED if secret is not None and item is not None and secret(str(key))
                                 else jsonable(item, secret=secret))
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item, secret=secret) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(item, secret=secret) for item in value), key=canonical_json)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value, secret=secret)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return text(str(value))


def canonical_json(value: Any) -> str:
    """The one JSON text of a plain value: sorted keys, no spaces, UTF-8 kept as is; Encoded members placed as is."""
    if isinstance(value, Encoded):
        return str.__str__(value)
    if isinstance(value, dict) and any(isinstance(item, Encoded) for item in value.values()):
        return "{" + ",".join(f"{quote(key)}:{canonical_json(value[key])}" for key in sorted(value)) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def encode(value: Any) -> Encoded:
    """The canonical JSON text of `value` made plain, once."""
    return Encoded(canonical_json(jsonable(value)))


def encode_plain(value: Any) -> Encoded:
    """`encode` for a value made of plain JSON types already (by `jsonable`, or parsed JSON): no second pass."""
    return Encoded(canonical_json(value))
