"""Issue #7: every lookup page, and the home page, sends a fixed number of SQL statements, whatever the data.

Each page is counted on both databases (console and target), statement by statement, after one
warm-up request (the first request of an app checks once which tables exist). The same pages are
then counted again after the data grew: a per-row query would show up as a larger count.
"""
from __future__ import annotations

import pytest

from console.deflection.models import Ticket
from console.tasks.models import TaskRun
from tests.factories import CustomerFactory, OrderFactory, OutboxEmailFactory
from tests.lookup.conftest import add_order_rows

# Transaction control is not a query: SQLite's explicit BEGIN and the tests' savepoints.
CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")

# Per page: (console SELECTs, target SELECTs). The console's first SELECT is the logged-in user.
LOOKUP_PAGES = {
    "customers list": ("/admin/records/customers/", 1, 1),
    "customers by status": ("/admin/records/customers/?status=active", 1, 1),  # the page, never a count
    # One statement per step of the search (console.product.queries.phases): the exact email, then the email's
    # prefix, then the substring of the email (empty: it leaves out the rows the steps before it found); an
    # email holds an @, which no name or phone number holds, so those substring steps are left out. No search
    # counts its matches. PostgreSQL sends them all as one, MariaDB asks one more (TARGET_ON).
    "customer by email": ("/admin/records/customers/?q={email}", 1, 3),
    "orders list": ("/admin/records/orders/", 1, 2),  # the page, then its customers' titles
    "orders by total": ("/admin/records/orders/?sort=-total_cents", 1, 2),
    # + runs and tickets; customer, orders, emails, and the titles of the orders the emails name
    "customer page": ("/admin/records/customers/{customer}", 3, 4),
    "order page": ("/admin/records/orders/{order}", 2, 7),  # + runs; order, customer, items, payments, refunds,
                                                            # shipments, emails
}
# A search that matched personal data appends one audit entry: (selects, writes) of one append, per database.
AUDITED = ("customer by email",)
AUDIT_APPEND = {"sqlite": (0, 3), "postgresql": (1, 1)}
# Target SELECTs where a database differs. PostgreSQL sends a search's steps as one UNION ALL
# (console.lookup.united). MariaDB's substring steps first ask, in one statement for all of them, which texts
# start more than 2,000 suffixes (ReflectedRecord.crowded): those read rows in key order before the side table
# answers.
TARGET_ON = {"postgresql": {"customer by email": 1}, "mysql": {"customer by email": 4},
             "mariadb": {"customer by email": 4}}
# The home page's sections belong to several domains, so each role sends its own number: the user, then what
# each section that role sees reads (an agent sees few sections, an admin every one). A new query shows here.
# Roles that run tasks read one more: the decisions leads took on their runs.
HOME_PAGE_SELECTS = {"agent": 3, "lead": 11, "product_owner": 4, "developer": 10, "admin": 14}


def _count(client, sql_log, path: str) -> dict[str, dict[str, int]]:
    sql_log.statements.clear()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    counts = {"console": {"select": 0, "write": 0}, "target": {"select": 0, "write": 0}}
    for database, statement, _ in sql_log.statements:
        verb = statement.lstrip(" \n(").split(None, 1)[0].upper()  # "(SELECT …) UNION ALL (…" too
        if verb in CONTROL:
            continue
        counts[database]["select" if verb in ("SELECT", "WITH") else "write"] += 1
    return counts


def _runs_and_tickets(console_db, email: str, order_id: int, start: int, n: int) -> None:
    for i in range(start, start + n):
        console_db.add(TaskRun(task="unlock_account", status="succeeded", ticket=f"T-{i}", reason="asked",
                               actor="a@example.com", customer=email, order_id=order_id))
        console_db.add(Ticket(ref=f"T-COUNT-{i}", customer=email, category="login"))
    console_db.flush()


@pytest.fixture
def grown(target_db, console_db):
    """A customer and an order with one row of everything; `grow()` adds many more of each."""
    customer = CustomerFactory(email="count.me@example.com")
    order = OrderFactory(customer_id=customer.id)
    add_order_rows(target_db, order, items=1)
    _runs_and_tickets(console_db, customer.email, order.id, 0, 1)

    def grow():
        for _ in range(30):
            OrderFactory(customer_id=customer.id)
            OrderFactory(customer_id=CustomerFactory().id)
        add_order_rows(target_db, order, items=12)
        for _ in range(8):
            OutboxEmailFactory(customer_id=customer.id, order_id=order.id, to_address=customer.email)
        _runs_and_tickets(console_db, customer.email, order.id, 1, 8)

    return customer, order, grow


def _paths(customer, order) -> dict[str, tuple[str, int, int]]:
    return {name: (path.format(email=customer.email, customer=customer.id, order=order.id), console, target)
            for name, (path, console, target) in LOOKUP_PAGES.items()}


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_each_lookup_page_sends_a_fixed_number_of_statements(client, login_as, sql_log, grown, role, console_db,
                                                             target_db):
    customer, order, grow = grown
    login_as(role)
    paths = _paths(customer, order)
    for path, _, _ in paths.values():
        client.get(path)  # warm-up
    before = {name: _count(client, sql_log, path) for name, (path, _, _) in paths.items()}
    grow()
    after = {name: _count(client, sql_log, path) for name, (path, _, _) in paths.items()}
    for name, (path, console, target) in paths.items():
        selects, writes = AUDIT_APPEND[console_db.get_bind().dialect.name] if name in AUDITED else (0, 0)
        target = TARGET_ON.get(target_db.get_bind().dialect.name, {}).get(name, target)
        expected = {"console": {"select": console + selects, "write": writes}, "target": {"select": target, "write": 0}}
        assert before[name] == expected, (name, before[name])
        assert after[name] == before[name], (name, "more rows must not mean more queries", after[name])


@pytest.mark.parametrize("role", ["agent", "lead", "product_owner", "developer", "admin"])
def test_the_home_page_sends_a_fixed_number_of_statements_per_role(client, login_as, sql_log, grown, role):
    customer, order, grow = grown
    login_as(role)
    client.get("/admin/")  # warm-up
    before = _count(client, sql_log, "/admin/")
    grow()
    after = _count(client, sql_log, "/admin/")
    assert before["target"] == {"select": 0, "write": 0}  # the home page reads nothing of the shop
    assert before["console"]["write"] == 0
    assert before["console"]["select"] == HOME_PAGE_SELECTS[role], before
    assert after == before, ("more rows must not mean more queries", before, after)
