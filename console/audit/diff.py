"""The before/after view of an entry's `details.changes` ([{"table", "key", "before", "after"}])."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from console.jsontext import canonical_json

ABSENT = object()


@dataclass
class FieldChange:
    name: str
    before: str
    after: str
    changed: bool


@dataclass
class RowChange:
    """One changed row: its table, its key, and every field with its value before and after."""

    table: str
    key: str
    kind: str  # update, insert or delete
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def changed_count(self) -> int:
        return sum(1 for item in self.fields if item.changed)


def shown(value) -> str:
    """A value as the diff prints it: text as is, anything else as compact JSON."""
    if value is ABSENT:
        return "(absent)"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return canonical_json(value)


def _key(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{name}={shown(item)}" for name, item in value.items())
    return shown(value)


def _fields(before, after) -> list[FieldChange]:
    if not isinstance(before, dict) and not isinstance(after, dict):
        return [FieldChange("value", shown(before), shown(after), before != after)]
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    names = list(before) + [name for name in after if name not in before]
    return [FieldChange(name, shown(before.get(name, ABSENT)), shown(after.get(name, ABSENT)),
                        before.get(name, ABSENT) != after.get(name, ABSENT))
            for name in names]


def changes_of(details) -> list[RowChange]:
    """The row changes recorded in an entry's details, ready to show side by side."""
    changes = details.get("changes") if isinstance(details, dict) else None
    if not isinstance(changes, list):
        return []
    rows = []
    for change in changes:
        if not isinstance(change, dict):
            rows.append(RowChange(table="?", key="", kind="update", fields=[FieldChange("value", "", shown(change),
                                                                                        True)]))
            continue
        before, after = change.get("before"), change.get("after")
        kind = "insert" if before is None and after is not None else "delete" if after is None else "update"
        rows.append(RowChange(table=shown(change.get("table", "")), key=_key(change.get("key", "")), kind=kind,
                              fields=_fields(before, after)))
    return rows


def other_details(details) -> str:
    """Everything in the details except the changes, as indented JSON for reading."""
    if not isinstance(details, dict):
        return shown(details)
    rest = {name: value for name, value in details.items() if name != "changes"}
    return json.dumps(rest, indent=2, sort_keys=True, ensure_ascii=False) if rest else ""
