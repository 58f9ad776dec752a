"""The baselines of the lookup suite: stock Flask-Admin over the shop's tables, default and tuned, and on
PostgreSQL the same over a copy of the shop without the console's trigram indexes (see bench/lookup.py)."""
from __future__ import annotations

import time

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship, scoped_session, sessionmaker

from admin_tasks.shop_schema import ShopBase


class StockBase(DeclarativeBase):
    metadata = ShopBase.metadata


class StockCustomer(StockBase):
    __table__ = ShopBase.metadata.tables["customers"]
    # viewonly: the console's own models map the same foreign key; the baseline only reads.
    orders: Mapped[list["StockOrder"]] = relationship(back_populates="customer", viewonly=True)


class StockOrder(StockBase):
    __table__ = ShopBase.metadata.tables["orders"]
    customer: Mapped[StockCustomer] = relationship(back_populates="orders", viewonly=True)

    def __str__(self) -> str:
        return f"Order {self.id}"


class StockCustomerView(ModelView):
    column_display_pk = True
    column_searchable_list = ["email"]
    column_filters = ["status"]
    can_view_details = True


class StockOrderView(ModelView):
    column_display_pk = True
    column_list = ["id", "customer.email", "status", "total_cents", "refunded_cents", "created_at",
                   "status_changed_at"]
    column_filters = ["status", "customer_id"]
    can_view_details = True


class TunedCustomerView(StockCustomerView):
    simple_list_pager = True
    column_default_sort = ("created_at", True)


class TunedOrderView(StockOrderView):
    simple_list_pager = True
    column_default_sort = ("created_at", True)


class SessionHandle:
    """The scoped session as Flask-Admin 2 wants it: an object with `.session` (and its methods)."""

    def __init__(self, session):
        self.session = session

    def __getattr__(self, name):
        return getattr(self.session, name)


def mount_stock_admin(app: Flask, plain_url: str | None = None) -> tuple[ModelView, ModelView]:
    """Add the baselines at /stock and /tuned (no access control: they exist only inside the benchmark process),
    and with `plain_url` the same two at /plain and /plaintuned over that database (plain_shop).

    It must happen before the app serves its first request. Returns the default stock views; the
    tuned ones have the same columns, so the same filter and sort numbers.
    """
    handle = SessionHandle(app.extensions["console_db"].target)
    mounts = [("stock", "Stock Flask-Admin", StockCustomerView, StockOrderView, handle),
              ("tuned", "Tuned stock Flask-Admin", TunedCustomerView, TunedOrderView, handle)]
    if plain_url:
        plain = scoped_session(sessionmaker(bind=create_engine(plain_url)))
        app.teardown_appcontext(lambda _exc: plain.remove())
        mounts += [("plain", "Stock without the trigram index", StockCustomerView, StockOrderView,
                    SessionHandle(plain)),
                   ("plaintuned", "Tuned stock without the trigram index", TunedCustomerView, TunedOrderView,
                    SessionHandle(plain))]
    found = []
    for prefix, name, customer_view, order_view, handle in mounts:
        admin = Admin(app, name=name, url=f"/{prefix}", endpoint=prefix, theme=Bootstrap4Theme())
        customers = customer_view(StockCustomer, handle, name="Customers", endpoint=f"{prefix}_customers",
                                  url=f"/{prefix}/customers")
        orders = order_view(StockOrder, handle, name="Orders", endpoint=f"{prefix}_orders", url=f"/{prefix}/orders")
        admin.add_view(customers)
        admin.add_view(orders)
        found.append((customers, orders))
    return found[0]


def plain_shop(shop_url: str) -> str | None:
    """PostgreSQL: a copy of the shop without the console's substring (pg_trgm) indexes, what a stock user has;
    None on other databases, where stock's LIKE cannot use the console's indexes anyway (FTS5, a side table)."""
    from console.product import search_index
    from console.product.loading import load_product

    url = make_url(shop_url)
    if url.get_backend_name() != "postgresql":
        return None
    plain = url.set(database=f"{url.database}_plain")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{plain.database}"'))
            for attempt in range(10):  # autovacuum may be visiting the template; it leaves within seconds
                try:
                    conn.execute(text(f'CREATE DATABASE "{plain.database}" TEMPLATE "{url.database}" '
                                      "STRATEGY FILE_COPY"))
                    break
                except OperationalError:
                    if attempt == 9:
                        raise
                    time.sleep(3)
    finally:
        admin.dispose()
    engine = create_engine(plain, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for index in search_index.declared(load_product("admin_tasks.shop")):
                conn.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
            left = conn.execute(text(
                "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_opclass oc ON oc.oid = ANY(i.indclass) "
                "WHERE oc.opcname IN ('gin_trgm_ops', 'gist_trgm_ops')")).scalars().all()
            if left:
                raise RuntimeError(f"the copy without trigram indexes still has {left}")
    finally:
        engine.dispose()
    return plain.render_as_string(hide_password=False)


def drop_plain_shop(plain_url: str) -> None:
    url = make_url(plain_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
