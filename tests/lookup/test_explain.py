"""Every query the lookup pages send is served by an index: no table scans and no sorts of whole tables.

The plans are read from the database itself: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL with sequential scans priced out (the test tables are tiny, where a scan would
otherwise win), so a plan still scanning or walking a whole index has no index to use, and
EXPLAIN on MySQL/MariaDB, one row per table read (its access type, index and Extra).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from admin_tasks.shop.demo import load_shop
from admin_tasks.shop_schema import ShopBase
from console.lookup import listing, records
from console.config import DEFAULT_PRODUCT_PACKAGE
from console.engines import make_engine
from console.product import search_index
from console.product.loading import load_product
from tests.factories import CustomerFactory, OrderFactory, use_sessions
from tests.lookup.conftest import add_order_rows


def _capture(target_db, run):
    """Run `run()` and return the SELECTs it sent, with their parameters."""
    engine = target_db.get_bind().engine
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip(" \n(").upper().startswith("SELECT"):  # a UNION ALL of SELECTs too
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen, "the scenario sent no query"
    return seen


def _plan(target_db, statement, parameters) -> list[str]:
    conn = target_db.connection()
    if conn.dialect.name == "sqlite":
        return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    if conn.dialect.name in MYSQL:
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings()
        return [f"{row['table']} type={row['type']} key={row['key']} extra={row['Extra'] or ''}" for row in rows]
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]


MYSQL = ("mysql", "mariadb")
MYSQL_PLAN_CUSTOMERS = 6000
# MySQL's access types that read a bounded range of an index (ALL is a table scan, index a walk of a whole index).
MYSQL_BOUNDED = ("const", "eq_ref", "ref", "range", "system")


def _mysql_problems(plan: list[str], statement: str) -> list[str]:
    filtered = " WHERE " in " ".join(statement.split())
    problems = []
    for line in plan:
        table, access, _key, extra = line.split(" ", 3)
        # A derived table's rows, or a constant (no table read). A substring step's candidates are one: a range
        # of its side table's primary key, materialized and sorted (a sort bounded by the match, not the table).
        if table.startswith("<") or table == "None":
            continue
        kind = access.removeprefix("type=")
        if kind == "ALL":
            problems.append(f"table scan: {line}")
        elif kind == "index" and filtered and "Using where" in extra:
            problems.append(f"index walked end to end with a filter: {line}")
        if "filesort" in extra and kind not in MYSQL_BOUNDED:
            problems.append(f"sort not served by an index: {line}")
    return problems


def _walks_the_primary_key(table: str, statement: str) -> bool:
    """SQLite keeps a table in id order, so 'SCAN t' ordered by t.id, filtered on t.id only, stops at LIMIT."""
    flat = " ".join(statement.split())
    where = re.search(r" WHERE (.*?) ORDER BY ", flat)
    columns = set(re.findall(r"\b(\w+\.\w+)\b", where.group(1))) if where else set()
    return f"ORDER BY {table}.id" in flat and columns <= {f"{table}.id"}


def _pg_scans_without_a_range(plan: list[str]) -> list[str]:
    """Index scans that filter rows but have no Index Cond: a walk along a whole index."""
    nodes, current = [], None
    for line in plan:
        if current is None or "->" in line:
            current = {"node": line.strip(), "cond": False, "filter": False}
            nodes.append(current)
        elif line.strip().startswith("Index Cond:"):
            current["cond"] = True
        elif line.strip().startswith("Filter:"):
            current["filter"] = True
    return [n["node"] for n in nodes if "Index" in n["node"] and n["filter"] and not n["cond"]]


def _assert_indexed(target_db, statement, parameters):
    plan = _plan(target_db, statement, parameters)
    text = "\n".join(plan)
    if target_db.connection().dialect.name == "sqlite":
        subqueries = {line.split()[1] for line in plan if line.startswith(("CO-ROUTINE", "MATERIALIZE"))}
        filtered = " WHERE " in " ".join(statement.split())
        for line in plan:
            if not line.startswith("SCAN ") or line.split()[1] in subqueries:
                continue
            if "INDEX" not in line and _walks_the_primary_key(line.split()[1], statement):
                continue
            if re.search(r" VIRTUAL TABLE INDEX \d+:M", line):  # FTS5 answering a MATCH: the trigram index
                continue
            # An ordered walk of a whole index is fine for an unfiltered page: LIMIT stops it.
            assert "INDEX" in line and not filtered, f"scan:\n{text}\n{statement}"
        # A sort is fine over one customer's or one order's rows (every read a SEARCH, bounded by an index);
        # after any SCAN it is a sort of the whole table.
        bounded = all(not line.startswith("SCAN ") or line.split()[1] in subqueries for line in plan)
        assert "TEMP B-TREE" not in text or (bounded and filtered), \
            f"sort not served by an index:\n{text}\n{statement}"
    elif target_db.connection().dialect.name in MYSQL:
        problems = _mysql_problems(plan, statement)
        assert not problems, f"{problems}:\n{text}\n{statement}"
    else:
        assert "Seq Scan" not in text, f"table scan:\n{text}\n{statement}"
        walks = _pg_scans_without_a_range(plan)
        assert not walks, f"index walked end to end with a filter:\n{text}\n{statement}"
        # A sort is fine over one customer's or one order's rows (an Index Cond bounds them);
        # over an unbounded scan it is a sort of the whole table.
        full_sort = any(re.match(r"\s*(->\s+)?Sort\s+\(", line) for line in plan)
        unbounded = any("Scan" in line for line in plan) and "Index Cond" not in text
        assert not (full_sort and unbounded), f"sort not served by an index:\n{text}\n{statement}"
    return plan


@pytest.fixture(scope="module")
def mysql_shop(test_databases):
    """A committed demo shop of a few thousand customers, analyzed, and the session the plans are read in.

    MySQL has no way to price table scans out: on the tiny tables of a test it rightly scans them.
    With real statistics it picks the plans it would pick in production.
    """
    engine = make_engine(test_databases.new_target())
    ShopBase.metadata.create_all(engine)
    search_index.create_missing(engine, load_product(DEFAULT_PRODUCT_PACKAGE))  # as `init` makes them
    load_shop(engine, customers=MYSQL_PLAN_CUSTOMERS)
    session = Session(engine)
    use_sessions(None, session)
    customer = CustomerFactory(email="plan.check@example.com")
    orders = [OrderFactory(customer_id=customer.id) for _ in range(3)]
    add_order_rows(session, orders[0], items=2)
    session.commit()
    use_sessions(None, None)
    with engine.connect() as conn:
        for table in ShopBase.metadata.tables:
            conn.exec_driver_sql(f"ANALYZE TABLE {table}").all()
    yield session, customer, orders[0]
    session.close()
    engine.dispose()


@pytest.fixture
def plan_db(request, target_db):
    """The session whose plans are read, with a customer and their order: (session, customer, order)."""
    if target_db.connection().dialect.name in MYSQL:
        return request.getfixturevalue("mysql_shop")
    customer = CustomerFactory(email="plan.check@example.com")
    orders = [OrderFactory(customer_id=customer.id) for _ in range(3)]
    add_order_rows(target_db, orders[0], items=2)
    for _ in range(5):
        CustomerFactory(locked=True)
    return target_db, customer, orders[0]


def _scenarios(app, customer, order):
    schema = app.extensions["product_schema"]
    customers, orders = schema.record("customers"), schema.record("orders")
    order_sorts = listing.shape(schema, orders).sorts
    cursor_of = {param: sort.encode(order) for param, sort in order_sorts.items()}

    def browse(reflected, **kw):
        return lambda s: listing.browse(s, schema, reflected, filters=kw.pop("filters", {}), sort=kw.pop("sort", None),
                                        **kw)

    yield "customers, newest first", browse(customers)
    for param in listing.shape(schema, customers).sorts:
        yield f"customers sorted {param}", browse(customers, sort=param)
    yield "customers by status", browse(customers, filters={"status": "locked"})
    yield "customers, last page", browse(customers, direction="last")
    yield "customer by email", lambda s: listing.search(s, customers, "plan.check@example.com")
    yield "customer by email, typed in another case", lambda s: listing.search(s, customers, "Plan.Check@Example.COM")
    yield "customers by email prefix", lambda s: listing.search(s, customers, "plan.ch")
    yield "customers by email prefix, last page", lambda s: listing.search(s, customers, "plan.ch", direction="last")
    yield "customers by number", lambda s: listing.search(s, customers, str(customer.id))
    yield "customers by a part of the email", lambda s: listing.search(s, customers, "check@exam")
    yield "customers by a part of the email, last page", lambda s: listing.search(s, customers, "check@exam",
                                                                                 direction="last")
    for param in order_sorts:
        yield f"orders sorted {param}", browse(orders, sort=param)
        yield f"orders sorted {param}, next page", browse(orders, sort=param, direction="after",
                                                          cursor=cursor_of[param])
        yield f"orders sorted {param}, previous page", browse(orders, sort=param, direction="before",
                                                              cursor=cursor_of[param])
    yield "orders by status", browse(orders, filters={"status": "paid"})
    yield "orders by status, next page", browse(orders, filters={"status": "paid"}, direction="after",
                                                cursor=cursor_of["-created_at"])
    yield "orders of a customer", browse(orders, filters={"customer_id": str(customer.id)})
    yield "order by number", lambda s: listing.search(s, orders, str(order.id))
    yield "customer page", lambda s: records.load(s, schema, customers, str(customer.id))
    yield "order page", lambda s: records.load(s, schema, orders, str(order.id))
    yield "a page's customers", lambda s: records.parents(
        s, schema, orders, listing.browse(s, schema, orders, filters={}, sort=None).page.rows)


# Once per app, a search asks the catalog whether each substring index exists (ReflectedRecord.require_index).
CATALOG = ("sqlite_master", "pg_index", "information_schema")


def test_every_lookup_query_uses_an_index(app, plan_db):
    target_db, customer, order = plan_db
    for name, scenario in _scenarios(app, customer, order):
        for statement, parameters in _capture(target_db, lambda: scenario(target_db)):
            if any(f"FROM {table}" in statement for table in CATALOG):
                continue
            if target_db.connection().dialect.name == "postgresql" and " ILIKE " in statement:
                _assert_trigram_served(target_db, statement, parameters, name)
                continue
            try:
                _assert_indexed(target_db, statement, parameters)
            except AssertionError as exc:
                raise AssertionError(f"{name}: {exc}") from None


def _assert_trigram_served(target_db, statement, parameters, name: str) -> None:
    """A substring step on PostgreSQL. On a test's few rows the planner rightly reads the key or a small index
    whole and stops at LIMIT, so only this is asked here: with table scans priced out, no table is scanned.
    tests/product/test_search_indexes.py shows the planner picking the trigram index on 20,000 customers."""
    text = "\n".join(_plan(target_db, statement, parameters))
    assert "Seq Scan" not in text, f"{name}: table scan:\n{text}\n{statement}"


def test_an_email_prefix_is_an_index_range(app, plan_db):
    target_db = plan_db[0]
    customers = app.extensions["product_schema"].record("customers")
    # The exact phases (number, email) come first; the prefix phase's page is the statement after them.
    statements = _capture(target_db, lambda: listing.search(target_db, customers, "plan.ch"))
    statement, parameters = next((sql, p) for sql, p in statements if "LIKE" in sql and "count(" not in sql.lower())
    plan = "\n".join(_plan(target_db, statement, parameters))
    if target_db.connection().dialect.name == "sqlite":
        assert "email>? AND email<?" in plan, plan  # LIKE 'plan.ch%' became a range on the unique index
    elif target_db.connection().dialect.name in MYSQL:
        assert "type=range key=uq_customers_email" in plan and "filesort" not in plan, plan
    else:
        # One statement holds every step (console.lookup.united): the prefix step is the branch on its index.
        plan = _branch(plan, "ix_customers_email_pattern")
        assert "~>=~" in plan and "~<~" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def _branch(plan: str, index: str) -> str:
    """The branch of a PostgreSQL plan's Append that reads `index`."""
    lines = plan.splitlines()
    [append] = [n for n, line in enumerate(lines) if line.strip().startswith("->  Append") or line.startswith("Append")]
    depth = len(lines[append + 1]) - len(lines[append + 1].lstrip())
    branches, current = [], []
    for line in lines[append + 1:]:
        indent = len(line) - len(line.lstrip())
        if indent < depth:
            break
        if indent == depth and line.lstrip().startswith("->") and current:
            branches.append(current)
            current = []
        current.append(line)
    branches.append(current)
    [found] = ["\n".join(branch) for branch in branches if index in "\n".join(branch)]
    return found


@pytest.mark.parametrize("sql", [
    "SELECT id FROM customers WHERE substr(email, 2, 4) = 'xamp' ORDER BY id LIMIT 26",  # a contains-search
    "SELECT id FROM orders ORDER BY refunded_cents DESC LIMIT 26",  # a sort with no index
])
def test_the_plan_check_catches_scans_and_sorts(plan_db, sql):
    target_db = plan_db[0]
    with pytest.raises(AssertionError):
        _assert_indexed(target_db, sql, None)


def test_on_postgresql_only_ordering_using_pattern_operators_lets_one_index_serve_a_prefix(plan_db):
    """Why the prefix search orders `USING ~<~`.

    The pattern index serves LIKE 'x%' but not ORDER BY email (collation order), and the unique
    index serves the order but not the LIKE. On a million rows the planner then walks the unique
    index and filters it (measured: 205 ms against 0.08 ms). With sorting priced out, this shows
    which order each index can serve.
    """
    target_db = plan_db[0]
    if target_db.connection().dialect.name != "postgresql":
        pytest.skip("SQLite and MySQL sort and match LIKE in the column's own collation: "
                    "the email index serves LIKE and ORDER BY alike")
    target_db.connection().exec_driver_sql("SET LOCAL enable_sort = off")
    plain = "SELECT id FROM customers WHERE email LIKE %(p)s ORDER BY email LIMIT 26"
    with pytest.raises(AssertionError, match="walked end to end"):
        _assert_indexed(target_db, plain, {"p": "plan.ch%"})
    _assert_indexed(target_db, plain.replace("ORDER BY email", "ORDER BY email USING ~<~"), {"p": "plan.ch%"})
