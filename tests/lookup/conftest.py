"""Fixtures for the lookup pages: a small shop built in the test's transaction, and a SQL counter."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from admin_tasks.shop_schema import OrderItem, OutboxEmail, Refund
from tests.factories import CustomerFactory, OrderFactory, PaymentFactory, ShipmentFactory

T0 = datetime(2025, 6, 1, 12, 0, 0)


@pytest.fixture
def alice(target_db):
    """A customer with three orders; the newest has items, a payment, a refund, a shipment and an email."""
    customer = CustomerFactory(email="alice.lookup@example.com", name="Alice Lookup", phone="+49 1512345678",
                               created_at=T0)
    orders = [OrderFactory(customer_id=customer.id, status=status, total_cents=total,
                           created_at=T0 + timedelta(days=n))
              for n, (status, total) in enumerate((("delivered", 2500), ("shipped", 4000), ("paid", 9900)))]
    newest = orders[-1]
    add_order_rows(target_db, newest, items=2)
    return customer, orders


def add_order_rows(target_db, order, *, items: int) -> None:
    """Give an order `items` items and one payment, refund, shipment and outbox email."""
    for n in range(items):
        target_db.add(OrderItem(order_id=order.id, sku=f"SKU-{n}", name=f"Thing {n}", quantity=1,
                                unit_price_cents=100))
    PaymentFactory(order_id=order.id, amount_cents=order.total_cents)
    target_db.add(Refund(order_id=order.id, amount_cents=100, reason="Scratched <b>lid</b>", created_at=T0))
    ShipmentFactory(order_id=order.id, recipient_name="Alice Lookup", line1="Lindenstr. 12", postcode="10115",
                    city="Berlin")
    target_db.add(OutboxEmail(customer_id=order.customer_id, order_id=order.id, to_address="alice.lookup@example.com",
                              template="order_paid", subject=f"Order {order.id}", created_at=T0))
    target_db.flush()


class StatementLog:
    """The SQL statements both engines ran while it was recording."""

    def __init__(self):
        self.statements: list[tuple[str, str, object]] = []  # (database, statement, parameters)

    def selects(self, database: str | None = None) -> list[str]:
        return [sql for sql, _ in self.selects_with_parameters(database)]

    def selects_with_parameters(self, database: str | None = None) -> list[tuple[str, object]]:
        return [(sql, parameters) for db, sql, parameters in self.statements
                if sql.lstrip(" \n(").upper().startswith("SELECT") and (database is None or db == database)]


@pytest.fixture
def sql_log(app, dbs):
    """Record every statement sent to the console and target databases during the test."""
    log = StatementLog()
    listeners = []
    engines = {"console": dbs.console_engine, "target": dbs.target_engine}
    for name, engine in engines.items():
        def record(conn, cursor, statement, parameters, context, executemany, _name=name):
            log.statements.append((_name, statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        listeners.append((engine, record))
    yield log
    for engine, record in listeners:
        event.remove(engine, "before_cursor_execute", record)
