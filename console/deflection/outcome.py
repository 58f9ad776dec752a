"""A ticket's outcome, derived from its events and never typed in (CONTRACT.md rules).

- Any escalation makes the ticket `escalated`, even one after a resolution.
- `reopened` sends it back to `open` until the next resolution or escalation.
- Resolved with a succeeded task run: `deflected_by_task`; else with a runbook viewed:
  `deflected_by_runbook`; else plain `resolved`.
"""
from __future__ import annotations

from typing import Iterable


def derive_outcome(events: Iterable) -> str:
    """Fold events (objects with .kind and .run_status, oldest first) into an outcome."""
    escalated = resolved = task_succeeded = runbook_viewed = False
    decided = False
    for event in events:
        kind = event.kind
        if kind == "escalated":
            escalated = decided = True
        elif kind == "resolved":
            resolved = decided = True
        elif kind == "reopened":
            resolved = decided = False
        elif kind == "task_run" and event.run_status == "succeeded":
            task_succeeded = True
        elif kind == "runbook_viewed":
            runbook_viewed = True
    if not decided:
        return "open"
    if escalated:
        return "escalated"
    if resolved:
        if task_succeeded:
            return "deflected_by_task"
        return "deflected_by_runbook" if runbook_viewed else "resolved"
    return "open"
