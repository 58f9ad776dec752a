"""Shop rows for bulk tests, and working a bulk through in the test's own process."""
from __future__ import annotations

import pytest

from tests.factories import CustomerFactory, OrderFactory, PaymentFactory


@pytest.fixture
def locked_customers(dbs):
    """locked_customers(n) -> n locked customers' emails."""

    def make(count: int) -> list[str]:
        return [CustomerFactory(locked=True).email for _ in range(count)]

    return make


@pytest.fixture
def paid_orders(dbs):
    """paid_orders(n, total_cents) -> n order ids, each with a captured payment."""

    def make(count: int, total_cents: int = 5000) -> list[int]:
        ids = []
        for _ in range(count):
            order = OrderFactory(total_cents=total_cents)
            PaymentFactory(order_id=order.id, amount_cents=total_cents)
            ids.append(order.id)
        return ids

    return make


@pytest.fixture
def work(app):
    """work(bulk_id): work the bulk through here, as a worker would; how many items ran."""
    from console.bulk.working import work_bulk
    from console.db import expect_writes

    def run(bulk_id: int) -> int:
        with app.app_context():
            expect_writes()
            return work_bulk(bulk_id)

    return run


@pytest.fixture
def waiting_bulk(app, client, paid_orders, console_db, monkeypatch):
    """waiting_bulk(headers) -> (a bulk pending approval, requested with these headers, age(hours)), approvals
    expiring after 2 hours; age(hours) makes the bulk that old."""
    from datetime import timedelta

    from sqlalchemy import update

    from console.bulk.models import Bulk
    from console.db import utcnow

    monkeypatch.setitem(app.config, "APPROVAL_TTL_HOURS", 2)

    def make(headers):
        answer = client.post("/api/v1/tasks/refund_order/bulk", headers=headers, json={
            "items": [{"order_id": o, "amount_cents": 8000} for o in paid_orders(2, total_cents=9000)],
            "ticket": "T-WAIT", "reason": "charged twice"})
        bulk = answer.get_json()["bulk"]
        assert bulk["status"] == "pending_approval", bulk

        def age(hours: float) -> None:
            console_db.execute(update(Bulk).where(Bulk.id == bulk["id"])
                               .values(created_at=utcnow() - timedelta(hours=hours)))
            console_db.commit()

        return bulk, age

    return make
