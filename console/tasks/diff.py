"""A run's diff read three ways: in words, as a fingerprint, and against the one that was approved.

The diff is the list of changes a task's context recorded ({"table", "key", "before", "after"}), with
its effects (the emails it sends). Its fingerprint must not move with the run's clock nor with the keys
of inserted rows, so that a preview recomputed later hashes the same when the data is the same.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from console.formatting import BOOKKEEPING, human_column
from console.jsontext import REDACTED, canonical_json
from console.tasks.context import thing

NOW = "<now>"


def describe(title: str, changes: list[dict], effect_lines: list[str], result: str) -> str:
    """One readable sentence of what a run changes, for the API: rows named by table and key ("order 1004").

    The pages build a fuller sentence with masked names (tasks/views.py).
    """
    parts = []
    for change in changes:
        if change["before"] is None:
            parts.append(f"add a new {thing(change['table'])}")
        else:
            changed = [name for name in change["after"] if change["before"].get(name) != change["after"][name]]
            fields = [name for name in changed if name not in BOOKKEEPING] or changed or list(change["after"])
            words = ", ".join(human_column(name, unit=False).lower() for name in fields)  # names, not values
            parts.append(f"change the {words} of {thing(change['table'])} {change['key']}")
    parts += [f"send {line}" for line in effect_lines]
    text = f"{title}: " + ("; ".join(parts) if parts else "no change")
    return text + (f". {result}" if result else "")


def stored_changes(changes: list[dict], redact_before: bool) -> list[dict]:
    if not redact_before:
        return changes
    return [{**c, "before": None if c["before"] is None else {name: REDACTED for name in c["before"]}}
            for c in changes]


def fingerprint(changes: list[dict], effects: list[dict], now: datetime) -> str:
    """SHA-256 of the canonical changes and effects, blind to the run's clock and to new keys.

    A preview recomputed later must hash the same when the data is the same, so values equal
    to the run's `now` and the keys of inserted rows (unknown until they exist) are normalised.
    """
    return hashlib.sha256(canonical_json(normalise(changes, effects, now)).encode()).hexdigest()


def normalise(changes: list[dict], effects: list[dict], now: datetime) -> dict:
    stamp = now.isoformat()

    def values(mapping):
        if mapping is None:
            return None
        return {name: (NOW if value == stamp else value) for name, value in mapping.items()}

    return {
        "changes": [{"table": c["table"], "key": None if c["before"] is None else c["key"],
                     "before": values(c["before"]), "after": values(c["after"])} for c in changes],
        "effects": [{k: v for k, v in e.items()} for e in effects],
    }


class Drift(Exception):
    """The change about to be committed differs from the one that was approved; `changes` is the new one."""

    def __init__(self, changes: list[dict]):
        super().__init__("changed since approval")
        self.changes = changes


def drift_message(approved: list[dict], now_changes: list[dict], now: datetime) -> str:
    """Say which record changed since the approval: the first row whose change is not the approved one."""
    seen = normalise(approved, [], now)["changes"]
    moved = [c for c, n in zip(now_changes, normalise(now_changes, [], now)["changes"])
             if c["before"] is not None and n not in seen]
    what = f"{thing(moved[0]['table'])} {moved[0]['key']}" if moved else "the data"
    return f"{what} changed since it was approved; nothing was changed"
