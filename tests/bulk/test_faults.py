"""A bulk whose product database goes away mid-chunk: the item it hit fails cleanly, the bulk resumes after."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from admin_tasks.shop_schema import Customer
from console.audit.verify import verify_trail
from console.bulk.models import Bulk, BulkItem
from console.bulk.service import request_bulk
from console.bulk.working import QueueStalled, work_bulk
from console.db import console_session, expect_writes, target_session
from console.tasks.context import TaskContext
from console.tasks.models import TaskRun
from tests.conftest import TEST_AUDIT_KEY
from tests.factories import CustomerFactory, StaffUserFactory, use_sessions

ITEMS, HIT = 6, 3


def _bulk(app) -> tuple[int, list[str]]:
    with app.app_context():
        use_sessions(console_session(), target_session())
        agent = StaffUserFactory(role="agent")
        emails = [CustomerFactory(locked=True).email for _ in range(ITEMS)]
        console_session().commit()
        target_session().commit()
        use_sessions(None, None)
        expect_writes()
        bulk = request_bulk("unlock_account", [{"email": e} for e in emails], "T-DOWN", "bad deploy",
                            console_session().merge(agent))
        return bulk.id, emails


def _work(app, bulk_id: int) -> int:
    with app.app_context():
        expect_writes()
        return work_bulk(bulk_id, "test-worker")


def test_the_product_database_lost_mid_chunk_fails_the_item_it_hit_and_the_bulk_resumes(isolated_app,
                                                                                        monkeypatch):
    app = isolated_app()
    bulk_id, emails = _bulk(app)
    update, calls = TaskContext.update, []

    def server_goes_away(ctx, table, row, **values):
        calls.append(row["email"])
        if len(calls) == HIT + 1:  # the product database goes away under this item's change
            ctx.session.connection().connection.dbapi_connection.close()
        return update(ctx, table, row, **values)

    monkeypatch.setattr(TaskContext, "update", server_goes_away)
    with pytest.raises(QueueStalled):
        _work(app, bulk_id)
    monkeypatch.setattr(TaskContext, "update", update)

    with app.app_context():
        session, target = console_session(), target_session()
        items = {item.idx: item for item in session.scalars(select(BulkItem).where(BulkItem.bulk_id == bulk_id))}
        assert items[HIT].status == "failed" and "database" in items[HIT].error, items[HIT].error
        run = session.get(TaskRun, items[HIT].run_id)
        assert run.status == "failed" and run.changes == "[]"
        # The items made before it were lost with the transaction, the ones after never made: all wait.
        assert {idx: item.status for idx, item in items.items() if idx != HIT} == dict.fromkeys(
            (0, 1, 2, 4, 5), "pending")
        assert session.scalar(select(func.count()).select_from(TaskRun)) == 1
        statuses = dict(target.execute(select(Customer.email, Customer.status)).all())
        assert [statuses[email] for email in emails] == ["locked"] * ITEMS  # nothing half-written

    assert _work(app, bulk_id) == ITEMS - 1  # the database is back: the bulk carries on

    with app.app_context():
        session, target = console_session(), target_session()
        assert session.get(Bulk, bulk_id).status == "finished"
        items = {item.idx: item.status for item in session.scalars(select(BulkItem).where(BulkItem.bulk_id == bulk_id))}
        assert items == {**dict.fromkeys(range(ITEMS), "succeeded"), HIT: "failed"}
        statuses = dict(target.execute(select(Customer.email, Customer.status)).all())
        assert [statuses[email] for email in emails] == ["active"] * HIT + ["locked"] + ["active"] * (ITEMS - HIT - 1)
        assert session.scalar(select(func.count()).select_from(TaskRun)) == ITEMS
    assert verify_trail(app.extensions["console_db"].console_engine, TEST_AUDIT_KEY).ok
