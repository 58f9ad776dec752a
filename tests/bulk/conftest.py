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
