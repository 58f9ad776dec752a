"""Tells the deflection domain which task runs are bulk items, so tool health counts them apart.

It stands above both domains: deflection (below tasks and bulk) cannot ask either of them itself.
"""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from console.bulk.working import item_key
from console.deflection.tickets import add_bulk_lookup
from console.tasks.models import TaskRun

_ITEM_KEY = re.compile(r"bulk-(\d+)-(\d+)")


def bulk_of_run(session: Session, run_id: int) -> int | None:
    """The bulk a run is an item of, read from its idempotency key; None for a single run."""
    # The runner has the run in the session when it records the event: get() costs no query then.
    run = session.get(TaskRun, run_id)
    match = _ITEM_KEY.fullmatch((run.idempotency_key or "") if run is not None else "")
    if match is None or item_key(int(match[1]), int(match[2])) != match[0]:
        return None
    return int(match[1])


def init_app(app) -> None:
    add_bulk_lookup(app, bulk_of_run)
