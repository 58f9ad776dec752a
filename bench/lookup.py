"""The lookup suite: the console's customer and order pages against stock Flask-Admin, from one app.

The baseline is a second `Admin` at /stock with plain `ModelView`s over the same tables, given
only what it needs to offer the same features: the email search, the status filter, the order's
customer column, the id column for sorting, and the details page. Paging, counting, sorting,
joins and templates stay at Flask-Admin's defaults. Its models map the shop's tables the way a
product usually does (default lazy loading); the console's own models forbid lazy loads.

Both sides are timed with the Flask test client, logged in as an agent, alternating A and B.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from admin_tasks.shop_schema import ShopBase
from bench.harness import (BenchContext, Comparison, Stats, SuiteResult, Target, calibrate, measure_ab,
                           peak_rss_mb)
from console.lookup import listing

PASSWORD = "bench-password-1234"
AGENT = "bench-agent@example.com"
STOCK_PAGE_SIZE = 20  # Flask-Admin's default
DEEP_PAGE = 5000


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


class SessionHandle:
    """The scoped session as Flask-Admin 2 wants it: an object with `.session` (and its methods)."""

    def __init__(self, session):
        self.session = session

    def __getattr__(self, name):
        return getattr(self.session, name)


def mount_stock_admin(app: Flask) -> tuple[ModelView, ModelView]:
    """Add the baseline at /stock (no access control: it exists only inside the benchmark process).

    It must happen before the app serves its first request.
    """
    handle = SessionHandle(app.extensions["console_db"].target)
    stock = Admin(app, name="Stock Flask-Admin", url="/stock", endpoint="stock", theme=Bootstrap4Theme())
    customers = StockCustomerView(StockCustomer, handle, name="Customers", endpoint="stock_customers",
                                  url="/stock/customers")
    orders = StockOrderView(StockOrder, handle, name="Orders", endpoint="stock_orders", url="/stock/orders")
    stock.add_view(customers)
    stock.add_view(orders)
    return customers, orders


def build_app(ctx: BenchContext, shop_url: str):
    from console import create_app
    from console.auth.services import create_user, find_user
    from console.db import console_session
    from console.migrations import upgrade_console

    app = create_app({
        "SECRET_KEY": "bench-secret-key", "CONSOLE_AUDIT_KEY": "bench-audit-key-" + "k" * 32,
        "CONSOLE_DATABASE_URL": ctx.database_url("console"), "TARGET_DATABASE_URL": shop_url,
        "RATELIMIT_ENABLED": False,
    })
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    stock_views = mount_stock_admin(app)
    with app.app_context():
        if find_user(console_session(), AGENT) is None:
            create_user(console_session(), AGENT, "agent", PASSWORD)
            console_session().commit()
    return app, stock_views


def logged_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": AGENT, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"bench login failed with {response.status_code}")
    return client


@dataclass
class Scenario:
    name: str
    baseline: list[str]  # the stock URLs one sample fetches (a customer page with orders takes two)
    console: str
    expect: str = ""  # text the console page must contain, so a fast wrong answer cannot pass
    note: str = ""
    baseline_expect: str = ""
    goal: str = ""  # the ratio target of issue 7 this scenario counts towards (GOALS)


# Issue 7's ratio targets: goal -> (what, least ratio of the baseline's median to the console's).
GOALS = {"page 1": ("ratio to stock on page 1", 4.0), "email": ("ratio to stock on email search", 40.0),
         "worst sort": ("ratio to stock on the worst stock sort", 100.0)}
P95_LIMIT_MS = 25.0


def targets(comparisons: list[Comparison], scenario_goals: dict[str, str]) -> list[Target]:
    """The p95 target over every scenario, then each ratio target over the scenarios that count towards it."""
    found = []
    if comparisons:
        worst = max(comparisons, key=lambda c: c.console.p95_ms)
        found.append(Target("every list, lookup, sort and detail page, console p95", f"<= {P95_LIMIT_MS:g} ms",
                            f"highest {worst.console.p95_ms:,.2f} ms ({worst.scenario})",
                            worst.console.p95_ms <= P95_LIMIT_MS))
    for goal, (what, least) in GOALS.items():
        counted = [c for c in comparisons if scenario_goals.get(c.scenario) == goal]
        if counted:
            lowest = min(counted, key=lambda c: c.ratio_median)
            shown = ", ".join(f"{c.ratio_median:,.1f}× {c.scenario}" for c in counted)
            found.append(Target(what, f">= {least:g}×", f"lowest {lowest.ratio_median:,.1f}× ({shown})",
                                lowest.ratio_median >= least))
    return found


def _filter_index(view: ModelView, column: str, operation: str = "equals") -> int:
    for index, flt in enumerate(view._filters):
        if getattr(flt, "column", None) is not None and flt.column.key == column and flt.operation() == operation:
            return index
    raise LookupError(f"no {operation} filter on {column}")


def _sort_index(view: ModelView, column: str) -> int:
    return [name for name, _ in view._list_columns].index(column)


def record_sorts(app) -> dict[str, dict]:
    """The sorts the console's customers and orders lists offer, by parameter (from the product's declarations)."""
    with app.app_context():
        schema = app.extensions["product_schema"]
        return {name: listing.shape(schema, schema.record(name)).sorts for name in ("customers", "orders")}


def pick_subjects(app) -> dict:
    """A generated customer in the middle of the data, with several orders, and the deep-page cursors."""
    from admin_tasks.shop_schema import Customer, Order
    from console.db import target_session

    sorts = record_sorts(app)
    with app.app_context():
        session = target_session()
        middle = session.execute(select(Customer.id).order_by(Customer.id.desc()).limit(1)).scalar() // 2
        customer = session.execute(
            select(Customer.id, Customer.email).where(Customer.id >= middle, Customer.status == "active")
            .where(select(Order.id).where(Order.customer_id == Customer.id).offset(2).exists())
            .order_by(Customer.id).limit(1)).one()
        order_id = session.execute(select(Order.id).where(Order.customer_id == customer.id)
                                   .order_by(Order.id.desc()).limit(1)).scalar()
        order_count = session.execute(select(func.count()).select_from(Order)).scalar()
        customer_count = session.execute(select(func.count()).select_from(Customer)).scalar()
        deep = {}
        for table, model, sort, rows in (("orders", Order, sorts["orders"]["-created_at"], order_count),
                                         ("customers", Customer, sorts["customers"]["-created_at"],
                                          customer_count)):
            # Page 5,000, or the middle page of a smaller shop (--quick).
            page = min(DEEP_PAGE, _last_page(rows) // 2)
            # The console's deep page starts at the row a stock page does, in the console's own order.
            row = session.execute(select(*sort.columns).order_by(*(c.desc() for c in sort.columns))
                                  .offset(page * STOCK_PAGE_SIZE - 1).limit(1)).first()
            deep[table] = (page, sort.encode(row))
    local, _, _ = customer.email.partition("@")
    return {"customer_id": customer.id, "email": customer.email, "prefix": local[: min(len(local), 8)],
            "order_id": order_id, "order_count": order_count, "customer_count": customer_count, "deep": deep}


def _last_page(rows: int) -> int:
    return max(0, -(-rows // STOCK_PAGE_SIZE) - 1)


def scenarios(stock_customers: ModelView, stock_orders: ModelView, s: dict, sorts: dict) -> list[Scenario]:
    deep = "console: the keyset page that starts at the same row, in the console's default order"
    by_customer = _filter_index(stock_orders, "customer_id")
    order_status = _filter_index(stock_orders, "status")
    customer_status = _filter_index(stock_customers, "status")
    cid, oid = s["customer_id"], s["order_id"]
    found = [
        Scenario("customers: page 1", ["/stock/customers/"], "/admin/records/customers/", "Newest first", goal="page 1"),
        Scenario("orders: page 1", ["/stock/orders/"], "/admin/records/orders/", "Newest first", goal="page 1"),
        *(Scenario(f"{table}: deep page ({page:,})", [f"/stock/{table}/?page={page}"],
                   f"/admin/records/{table}/?after={cursor}", 'rel="prev"', note=deep)
          for table, (page, cursor) in s["deep"].items()),
        Scenario("customers: last page", [f"/stock/customers/?page={_last_page(s['customer_count'])}"],
                 "/admin/records/customers/?page=last", 'rel="prev"'),
        Scenario("orders: last page", [f"/stock/orders/?page={_last_page(s['order_count'])}"],
                 "/admin/records/orders/?page=last", 'rel="prev"'),
        Scenario("customers: exact email", [f"/stock/customers/?search={s['email']}"],
                 f"/admin/records/customers/?q={s['email']}", f"/admin/records/customers/{cid}", baseline_expect=s["email"],
                 goal="email"),
        Scenario("customers: email prefix", [f"/stock/customers/?search={s['prefix']}"],
                 f"/admin/records/customers/?q={s['prefix']}", "match",
                 note="stock offers only a contains search; the console searches by prefix", goal="email"),
        Scenario("customers: status filter (locked)", [f"/stock/customers/?flt0_{customer_status}=locked"],
                 "/admin/records/customers/?status=locked", "locked"),
        Scenario("orders: status filter (cancelled)", [f"/stock/orders/?flt0_{order_status}=cancelled"],
                 "/admin/records/orders/?status=cancelled", "cancelled"),
    ]
    for param, order in sorts["orders"].items():
        column = _sort_index(stock_orders, order.key)
        desc = "&desc=1" if order.descending else ""
        found.append(Scenario(f"orders: sort {order.label.lower()} ({order.key})",
                              [f"/stock/orders/?sort={column}{desc}"], f"/admin/records/orders/?sort={param}", "Order"))
    found.append(Scenario(
        "orders: worst stock sort (refunded amount, no index)",
        [f"/stock/orders/?sort={_sort_index(stock_orders, 'refunded_cents')}&desc=1"], "/admin/records/orders/?sort=-total_cents",
        "Order", note="stock sorts any column; the console offers indexed sorts only, so its side is the total",
        goal="worst sort"))
    for param, order in sorts["customers"].items():
        column = _sort_index(stock_customers, order.key)
        desc = "&desc=1" if order.descending else ""
        found.append(Scenario(f"customers: sort {order.label.lower()} ({order.key})",
                              [f"/stock/customers/?sort={column}{desc}"], f"/admin/records/customers/?sort={param}",
                              "Created"))
    found += [
        Scenario("customer page with orders", [f"/stock/customers/details/?id={cid}",
                                               f"/stock/orders/?flt0_{by_customer}={cid}"],
                 f"/admin/records/customers/{cid}", f"/admin/records/orders/{oid}",
                 note="stock: the details page plus the customer's orders list (two requests)"),
        Scenario("order page", [f"/stock/orders/details/?id={oid}"], f"/admin/records/orders/{oid}", "Order items",
                 note="stock shows the order row only; the console adds items, payments, refunds, "
                      "shipments and emails"),
    ]
    return found


def _fetcher(client, urls: list[str], expect: str = "") -> Callable[[], None]:
    def fetch():
        for url in urls:
            response = client.get(url)
            body = response.get_data(as_text=True)
            if response.status_code != 200 or (expect and expect not in body):
                raise RuntimeError(f"{url}: {response.status_code}, expected {expect!r} on the page")
    return fetch


def profile(client, scenario: Scenario, calls: int = 50) -> str:
    """Profile the console side of one scenario with pyinstrument."""
    from pyinstrument import Profiler

    fetch = _fetcher(client, [scenario.console], scenario.expect)
    fetch()
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(calls):
        fetch()
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def run(ctx: BenchContext) -> SuiteResult:
    shop = ctx.load_shop()
    app, (stock_customers, stock_orders) = build_app(ctx, ctx.shop_url())
    subjects = pick_subjects(app)
    client = logged_in_client(app)
    result = SuiteResult("lookup", facts={**ctx.facts, "subjects": subjects, "load_average_before": os.getloadavg(),
                                          "calibration_before": calibrate()})
    goals = {}
    for scenario in scenarios(stock_customers, stock_orders, subjects, record_sorts(app)):
        goals[scenario.name] = scenario.goal
        if ctx.profile and ctx.profile.lower() not in scenario.name.lower():
            continue
        baseline = _fetcher(client, scenario.baseline, scenario.baseline_expect)
        console = _fetcher(client, [scenario.console], scenario.expect)
        if ctx.profile:
            print(f"\n## {scenario.name}\n{profile(client, scenario)}")
            continue
        a, b = measure_ab(baseline, console, reps=ctx.reps, warmup=ctx.warmup, budget_s=ctx.budget_s)
        comparison = Comparison(scenario.name, Stats.of(a.wall), Stats.of(b.wall), scenario.note,
                                baseline_cpu_ms=a.cpu_median_ms, console_cpu_ms=b.cpu_median_ms)
        result.comparisons.append(comparison)
        print(f"  {scenario.name}: baseline {comparison.baseline.median_ms:,.1f} ms, "
              f"console {comparison.console.median_ms:,.2f} ms (p95 {comparison.console.p95_ms:,.2f})", flush=True)
    result.targets = targets(result.comparisons, goals)
    result.facts["peak_rss_mb"] = peak_rss_mb()
    result.facts["load_average_after"] = os.getloadavg()
    result.facts["calibration_after"] = calibrate()
    shop.dispose()
    app.extensions["console_db"].dispose()
    return result
