"""The named demo records the runbooks and tests rely on, restored to that state on every load.

They have fixed low ids, so a record a task has since changed (an unlocked account, an
edited address, a refund) is put back as the runbooks describe it. Order 1003 alone is dated
relative to the clock: it must look stuck in processing for more than two days whenever the
demo is (re)loaded.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from admin_tasks.shop.demo_generated import EPOCH
from admin_tasks.shop.schema import Customer, Order, OrderItem, Payment, Refund, Shipment

LOCKED_CUSTOMER_ID, UNCONFIRMED_CUSTOMER_ID, ALICE_ID = 1, 2, 3
NAMED_ORDER_IDS = (1001, 1002, 1003, 1004)
STUCK_FOR = timedelta(days=3)

ALICE_ADDRESS = {
    "recipient_name": "Alice Example", "line1": "Lindenstr. 12", "line2": None,
    "city": "Berlin", "postcode": "10115", "country": "DE",
}


class NamedRecordConflict(ValueError):
    """A named record's email is taken by another customer."""


def utcnow() -> datetime:
    """Now in naive UTC, as the shop stores its times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _at(days_before_epoch: float) -> datetime:
    return EPOCH - timedelta(days=days_before_epoch)


def named_rows(now: datetime) -> list[tuple[type, dict]]:
    """Return the named records in insert order, as (model, column values)."""
    now = now.replace(microsecond=0)
    stuck_since = now - STUCK_FOR
    ordered_1003 = stuck_since - timedelta(hours=5)

    def customer(id_, email, name, *, status="active", confirmed=True, failed=0, days=400):
        return (Customer, dict(id=id_, email=email, name=name, phone=None, status=status, email_confirmed=confirmed,
                               failed_login_count=failed, created_at=_at(days), updated_at=_at(2)))

    def order(id_, status, total, created, changed):
        return (Order, dict(id=id_, customer_id=ALICE_ID, status=status, currency="EUR", total_cents=total,
                            refunded_cents=0, created_at=created, updated_at=changed, status_changed_at=changed))

    def item(id_, order_id, sku, name, quantity, price):
        return (OrderItem, dict(id=id_, order_id=order_id, sku=sku, name=name, quantity=quantity,
                                unit_price_cents=price))

    def payment(id_, order_id, amount, created):
        return (Payment, dict(id=id_, order_id=order_id, amount_cents=amount, status="captured",
                              provider_ref=f"pi_demo_{order_id}", created_at=created + timedelta(seconds=5)))

    def shipment(id_, order_id, status, carrier=None, tracking=None, shipped=None, delivered=None):
        return (Shipment, dict(id=id_, order_id=order_id, status=status, **ALICE_ADDRESS, carrier=carrier,
                               tracking_number=tracking, shipped_at=shipped, delivered_at=delivered))

    return [
        customer(LOCKED_CUSTOMER_ID, "locked@example.com", "Lars Locked", status="locked", failed=5, days=300),
        customer(UNCONFIRMED_CUSTOMER_ID, "unconfirmed@example.com", "Uma Unconfirmed", confirmed=False, days=3),
        customer(ALICE_ID, "alice@example.com", "Alice Example"),
        order(1001, "paid", 5000, _at(1), _at(1) + timedelta(minutes=4)),
        order(1002, "shipped", 10400, _at(6), _at(4)),
        order(1003, "processing", 18300, ordered_1003, stuck_since),
        order(1004, "delivered", 25000, _at(30), _at(25)),
        item(1, 1001, "TEE-010", "Organic cotton T-shirt", 2, 2500),
        item(2, 1002, "BAG-041", "Rolltop backpack", 1, 8900),
        item(3, 1002, "CBL-151", "Braided cable 2 m", 1, 1500),
        item(4, 1003, "HDP-140", "Wireless headphones", 1, 15900),
        item(5, 1003, "NOT-060", "Dotted notebook A5", 2, 1200),
        item(6, 1004, "BLK-100", "Wool blanket", 2, 9900),
        item(7, 1004, "CFE-170", "Coffee beans 1 kg", 2, 2600),
        payment(1, 1001, 5000, _at(1)),
        payment(2, 1002, 10400, _at(6)),
        payment(3, 1003, 18300, ordered_1003),
        payment(4, 1004, 25000, _at(30)),
        shipment(1, 1001, "pending"),
        shipment(2, 1002, "shipped", "DHL", "JJD000390007123456", shipped=_at(4)),
        shipment(3, 1003, "pending"),
        shipment(4, 1004, "delivered", "DPD", "01505000123456", shipped=_at(28), delivered=_at(25)),
    ]


def demo_records(now: datetime) -> list[tuple[str, dict]]:
    """The package's `demo_records` hook: the named records as (table name, column values), parents first."""
    return [(model.__table__.name, values) for model, values in named_rows(now)]


def restore_named_records(conn: Connection, now: datetime) -> dict[str, int]:
    """Insert or reset the named records; return how many rows were new, per table."""
    rows = named_rows(now)
    _check_emails_free(conn, [values for model, values in rows if model is Customer])
    inserted: dict[str, int] = {}
    for model, values in rows:
        table = model.__table__
        current = conn.execute(select(table).where(table.c.id == values["id"])).mappings().first()
        if current is None:
            conn.execute(insert(table).values(values))
            inserted[table.name] = inserted.get(table.name, 0) + 1
        elif any(current[key] != value for key, value in values.items()):
            conn.execute(update(table).where(table.c.id == values["id"]).values(values))
    # Whatever tasks added to the named orders since (refunds, extra lines) goes, so that
    # e.g. 1004 again has "nothing refunded yet".
    for model in (OrderItem, Payment, Shipment, Refund):
        table = model.__table__
        keep = [values["id"] for row_model, values in rows if row_model is model]
        conn.execute(delete(table).where(table.c.order_id.in_(NAMED_ORDER_IDS), table.c.id.not_in(keep)))
    return inserted


def _check_emails_free(conn: Connection, customers: list[dict]) -> None:
    table = Customer.__table__
    for values in customers:
        holder = conn.execute(
            select(table.c.id).where(table.c.email == values["email"], table.c.id != values["id"])
        ).scalar()
        if holder is not None:
            raise NamedRecordConflict(
                f"customers.email: {values['email']} is the demo customer #{values['id']}, but customer "
                f"#{holder} now has that address; change that customer's email, then load the demo data again"
            )
