"""The demo target: a small web shop's database, as the product team owns it.

Task plugins do not import this module; they reach these tables through the task context
by name. The package's records (records.py) say what support looks up in them; the demo-data
loader fills them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

CUSTOMER_STATUSES = ("active", "locked", "disabled", "anonymized")
ORDER_STATUSES = ("pending", "paid", "processing", "shipped", "delivered", "cancelled", "refunded")
PAYMENT_STATUSES = ("authorized", "captured", "failed", "voided")
SHIPMENT_STATUSES = ("pending", "shipped", "delivered", "returned")

# MySQL's DATETIME drops fractions of a second unless told to keep them; a task that wrote
# 12:00:00.250 must read back what it wrote, or its undo would see the row as changed since.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Emails are found without regard to case on every database (console/folding.py): on MySQL and
# MariaDB a case-insensitive collation does it on the column's own index. A task's conditional
# UPDATE still notices a change of case: it compares byte by byte (console/tasks/context.py).
Email = String(254).with_variant(mysql.VARCHAR(254, charset="utf8mb4", collation="utf8mb4_general_ci"),
                                 "mysql", "mariadb")


class ShopBase(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Customer(ShopBase):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(Email, unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)

    orders: Mapped[list["Order"]] = relationship(back_populates="customer", lazy="raise")

    __table_args__ = (
        # LIKE 'prefix%' on PostgreSQL only uses a btree index with pattern ops (or a C collation).
        Index("ix_customers_email_pattern", "email", postgresql_ops={"email": "text_pattern_ops"}).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_customers_status_created", "status", "created_at"),
        Index("ix_customers_created", "created_at"),
    )

    def __str__(self) -> str:
        return self.email


# Emails are meant to be stored in lower case, but a shop may hold some that are not: lookups and tasks compare
# them without regard to case (console/folding.py), served by these indexes. MySQL and MariaDB compare without
# case already, on the column's own index.
Index("ix_customers_email_lower", func.lower(Customer.email)).ddl_if(dialect="postgresql")
Index("ix_customers_email_nocase", Customer.email.collate("NOCASE")).ddl_if(dialect="sqlite")


class Order(ShopBase):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    status_changed_at: Mapped[datetime] = mapped_column(Timestamp)

    customer: Mapped[Customer] = relationship(back_populates="orders", lazy="raise")

    __table_args__ = (
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
        Index("ix_orders_created", "created_at"),
        Index("ix_orders_total", "total_cents"),
        # Totals repeat thousands of times; paging by (total, id) needs id inside the index, or
        # every page re-reads and re-sorts a whole group of equal totals. SQLite indexes carry the
        # rowid (= id) already, and InnoDB's the primary key, so only PostgreSQL needs it.
        Index("ix_orders_total_id", "total_cents", "id").ddl_if(dialect="postgresql"),
    )

    def __str__(self) -> str:
        return f"Order {self.id}"


class OrderItem(ShopBase):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)


class Payment(ShopBase):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Refund(ShopBase):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Shipment(ShopBase):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    recipient_name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(Timestamp)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)


class OutboxEmail(ShopBase):
    """A row the shop's mailer sends from; writing one is how the console 'sends' email."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)


metadata = ShopBase.metadata
