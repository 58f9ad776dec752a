"""Leases on bulk items: a worker claims items, holds them while it runs them, and ends or gives them back.

An item is claimed (`running`, `owner`, `lease_until`) before it runs; a worker that dies leaves it
claimed until its lease ends, when any worker may take it over. Every write here is conditional on
the owner, so a worker whose items were taken over changes none of them.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from console.bulk.models import WORKABLE, Bulk, BulkItem
from console.bulk.settings import CHUNK
from console.db import console_session, utcnow
from console.engines import is_postgres


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_length() -> timedelta:
    return timedelta(seconds=current_app.config.get("BULK_LEASE_SECONDS", 60))


def claimable(bulk_id: int, now):
    """The condition an item of the bulk (or of `Bulk.id`, in a correlated query) may be claimed under now."""
    return and_(BulkItem.bulk_id == bulk_id, or_(BulkItem.status == "pending",
                                                 and_(BulkItem.status == "running", BulkItem.lease_until < now)))


def claim_items(bulk_id: int, owner: str, limit: int | None = None) -> list[BulkItem]:
    """Claim the next items of the bulk, in order; a running item whose lease ended counts as free.

    The items come back detached from the session: the rollbacks a chunk goes through (a fresh read of the
    bulk's status, a failed write) would otherwise expire them, and reading them again cost a query each."""
    session = console_session()
    limit = limit or current_app.config.get("BULK_CHUNK_ITEMS", CHUNK)
    while True:
        now = utcnow()
        query = select(BulkItem.id).where(claimable(bulk_id, now)).order_by(BulkItem.idx).limit(limit)
        if is_postgres(session.get_bind()):
            query = query.with_for_update(skip_locked=True)  # two workers on one bulk take different items
        ids = list(session.scalars(query))
        if not ids:
            session.rollback()
            return []
        # Conditional: on SQLite two claimers may have read the same ids, and only one of them moves each.
        moved = session.execute(update(BulkItem).where(BulkItem.id.in_(ids), claimable(bulk_id, now))
                                .values(status="running", owner=owner, lease_until=now + lease_length(),
                                        attempts=BulkItem.attempts + 1)
                                .execution_options(synchronize_session=False)).rowcount
        if moved:
            break
        session.rollback()  # another claimer took them all first: look again
    session.execute(update(Bulk).where(Bulk.id == bulk_id, Bulk.status.in_(WORKABLE))
                    .values(status="running", heartbeat_at=now).execution_options(synchronize_session=False))
    session.commit()
    items = list(session.scalars(select(BulkItem).where(BulkItem.id.in_(ids), BulkItem.owner == owner,
                                                        BulkItem.status == "running").order_by(BulkItem.idx)
                                 .execution_options(populate_existing=True)))
    for item in items:
        session.expunge(item)
    return items


def hold_items(items: list[BulkItem], owner: str) -> list[BulkItem]:
    """Renew the items' leases just before they run; those another worker has taken over are left out."""
    session = console_session()
    ids = [item.id for item in items]
    session.execute(update(BulkItem).where(BulkItem.id.in_(ids), BulkItem.owner == owner, BulkItem.status == "running")
                    .values(lease_until=utcnow() + lease_length()).execution_options(synchronize_session=False))
    held = set(session.scalars(select(BulkItem.id).where(BulkItem.id.in_(ids), BulkItem.owner == owner,
                                                         BulkItem.status == "running")))
    session.commit()
    return [item for item in items if item.id in held]


def end_item(item: BulkItem, owner: str, status: str, error: str = "", run_id: int | None = None) -> None:
    session = console_session()
    session.rollback()
    session.execute(update(BulkItem).where(BulkItem.id == item.id, BulkItem.owner == owner)
                    .values(status=status, error=(error or "")[:4000], run_id=run_id, lease_until=None)
                    .execution_options(synchronize_session=False))
    session.commit()


def release_items(items: list[BulkItem], owner: str) -> None:
    """Give back items that were claimed but not run (the worker stops): they are free again at once."""
    session = console_session()
    try:
        session.rollback()
        session.execute(update(BulkItem).where(BulkItem.id.in_([i.id for i in items]), BulkItem.owner == owner,
                                               BulkItem.status == "running")
                        # not run, so not an attempt: a takeover looks for an earlier run only after a lost one
                        .values(status="pending", lease_until=None, attempts=BulkItem.attempts - 1)
                        .execution_options(synchronize_session=False))
        session.commit()
    except Exception:  # the database is down: the leases end by themselves
        session.rollback()


def lease_renewer(items: list[BulkItem], owner: str):
    """Renew the chunk's leases while its changes are made, a third of a lease apart: a slow chunk (a loaded
    database) must not look like a lost worker, whose items another worker would take over meanwhile."""
    renewed = [time.monotonic()]

    def keep_alive() -> None:
        if time.monotonic() - renewed[0] < lease_length().total_seconds() / 3:
            return
        session = console_session()  # its own short transaction: the chunk's console writes come later
        session.execute(update(BulkItem).where(BulkItem.id.in_([item.id for item in items]),
                                               BulkItem.owner == owner, BulkItem.status == "running")
                        .values(lease_until=utcnow() + lease_length()).execution_options(synchronize_session=False))
        session.commit()
        renewed[0] = time.monotonic()

    return keep_alive
