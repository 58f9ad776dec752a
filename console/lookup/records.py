"""A customer's or an order's whole picture: one indexed query per table, never one per row."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_tasks.shop_schema import Customer, Order, OrderItem, OutboxEmail, Payment, Refund, Shipment

RECENT_ORDERS = 50
RECENT_EMAILS = 20

CUSTOMER_FIELDS = (Customer.id, Customer.email, Customer.name, Customer.phone, Customer.status,
                   Customer.email_confirmed, Customer.failed_login_count, Customer.created_at, Customer.updated_at)
ORDER_FIELDS = (Order.id, Order.customer_id, Order.status, Order.currency, Order.total_cents,
                Order.refunded_cents, Order.created_at, Order.updated_at, Order.status_changed_at)
EMAIL_FIELDS = (OutboxEmail.id, OutboxEmail.customer_id, OutboxEmail.order_id, OutboxEmail.to_address,
                OutboxEmail.template, OutboxEmail.subject, OutboxEmail.created_at, OutboxEmail.sent_at)


@dataclass
class CustomerRecord:
    customer: object
    orders: list
    more_orders: bool
    emails: list


@dataclass
class OrderRecord:
    order: object
    customer: object | None
    items: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    shipments: list = field(default_factory=list)
    emails: list = field(default_factory=list)

    @property
    def refundable_cents(self) -> int:
        return self.order.total_cents - self.order.refunded_cents


def customer_record(session: Session, customer_id: int) -> CustomerRecord | None:
    """Load a customer with their most recent orders and emails; None when there is no such customer."""
    customer = session.execute(select(*CUSTOMER_FIELDS).where(Customer.id == customer_id)).first()
    if customer is None:
        return None
    orders = list(session.execute(
        select(*ORDER_FIELDS).where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(RECENT_ORDERS + 1)
    ))
    emails = list(session.execute(
        select(*EMAIL_FIELDS).where(OutboxEmail.customer_id == customer_id)
        .order_by(OutboxEmail.id.desc()).limit(RECENT_EMAILS)
    ))
    return CustomerRecord(customer, orders[:RECENT_ORDERS], len(orders) > RECENT_ORDERS, emails)


def customer_email(session: Session, customer_id: int) -> str | None:
    return session.execute(select(Customer.email).where(Customer.id == customer_id)).scalar()


def order_record(session: Session, order_id: int) -> OrderRecord | None:
    """Load an order with its customer, items, payments, refunds, shipments and emails."""
    order = session.execute(select(*ORDER_FIELDS).where(Order.id == order_id)).first()
    if order is None:
        return None
    record = OrderRecord(order, session.execute(
        select(*CUSTOMER_FIELDS).where(Customer.id == order.customer_id)).first())
    record.items = list(session.execute(
        select(OrderItem.id, OrderItem.sku, OrderItem.name, OrderItem.quantity, OrderItem.unit_price_cents)
        .where(OrderItem.order_id == order_id).order_by(OrderItem.id)))
    record.payments = list(session.execute(
        select(Payment.id, Payment.amount_cents, Payment.status, Payment.provider_ref, Payment.created_at)
        .where(Payment.order_id == order_id).order_by(Payment.id)))
    record.refunds = list(session.execute(
        select(Refund.id, Refund.amount_cents, Refund.reason, Refund.created_at)
        .where(Refund.order_id == order_id).order_by(Refund.id)))
    record.shipments = list(session.execute(
        select(Shipment.id, Shipment.status, Shipment.recipient_name, Shipment.line1, Shipment.line2, Shipment.city,
               Shipment.postcode, Shipment.country, Shipment.carrier, Shipment.tracking_number,
               Shipment.shipped_at, Shipment.delivered_at)
        .where(Shipment.order_id == order_id).order_by(Shipment.id)))
    record.emails = list(session.execute(
        select(*EMAIL_FIELDS).where(OutboxEmail.order_id == order_id).order_by(OutboxEmail.id.desc())
        .limit(RECENT_EMAILS)))
    return record
