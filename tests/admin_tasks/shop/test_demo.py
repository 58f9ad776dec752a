"""The demo shop loader: the contract's named records, determinism, idempotency, growth."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Index, func, inspect, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from admin_tasks.shop import demo, demo_generated
from admin_tasks.shop.demo import NamedRecordConflict, ShopSchemaMissing, load_shop
from admin_tasks.shop.demo_generated import TABLES
from admin_tasks.shop.schema import (
    Customer,
    Order,
    OrderItem,
    OutboxEmail,
    Payment,
    Refund,
    ShopBase,
    Shipment,
)
from console.db import utcnow
from console.engines import make_engine

NOW = datetime(2026, 6, 1, 12, 0, 0)


@pytest.fixture
def new_shop_db(test_databases):
    """Return a factory of fresh, empty demo-shop databases (on the server the run's targets are on)."""
    engines = []

    def new():
        engine = make_engine(test_databases.new_target())
        engines.append(engine)
        ShopBase.metadata.create_all(engine)
        return engine

    yield new
    for engine in engines:
        engine.dispose()


def dump(engine) -> dict[str, list[tuple]]:
    """Every row of every shop table, in id order."""
    with engine.connect() as conn:
        return {
            name: [tuple(row) for row in conn.execute(select(table).order_by(table.c.id))]
            for name in TABLES
            for table in [ShopBase.metadata.tables[name]]
        }


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in TABLES}


def test_named_customers_are_as_the_contract_says(new_shop_db):
    engine = new_shop_db()
    load_shop(engine, customers=0, now=NOW)
    with Session(engine) as session:
        by_email = {c.email: c for c in session.scalars(select(Customer))}
    assert set(by_email) == {"locked@example.com", "unconfirmed@example.com", "alice@example.com"}
    locked, unconfirmed, alice = (by_email[e] for e in ("locked@example.com", "unconfirmed@example.com",
                                                        "alice@example.com"))
    assert (locked.id, locked.status, locked.failed_login_count) == (1, "locked", 5)
    assert (unconfirmed.id, unconfirmed.status, unconfirmed.email_confirmed) == (2, "active", False)
    assert (alice.id, alice.name, alice.status, alice.email_confirmed) == (3, "Alice Example", "active", True)


def test_alices_orders_are_as_the_contract_says(new_shop_db):
    engine = new_shop_db()
    load_shop(engine, customers=0, now=NOW)
    with Session(engine) as session:
        orders = {o.id: o for o in session.scalars(select(Order))}
        items = session.execute(select(OrderItem.order_id, func.sum(OrderItem.quantity * OrderItem.unit_price_cents))
                                .group_by(OrderItem.order_id)).all()
        payments = {p.order_id: p for p in session.scalars(select(Payment))}
        shipments = {s.order_id: s for s in session.scalars(select(Shipment))}
        refunds = session.scalars(select(Refund)).all()
    assert sorted(orders) == [1001, 1002, 1003, 1004]
    assert {o.customer_id for o in orders.values()} == {3}
    assert {o.id: o.status for o in orders.values()} == {
        1001: "paid", 1002: "shipped", 1003: "processing", 1004: "delivered"}
    assert dict(items) == {o.id: o.total_cents for o in orders.values()}
    assert {order_id: p.amount_cents for order_id, p in payments.items()} == dict(items)
    assert {p.status for p in payments.values()} == {"captured"}

    assert orders[1001].total_cents == 5000
    assert shipments[1001].status == "pending" and shipments[1001].shipped_at is None
    assert shipments[1001].line1 and shipments[1001].city and shipments[1001].postcode
    assert shipments[1002].status == "shipped" and shipments[1002].tracking_number
    assert NOW - orders[1003].status_changed_at > timedelta(days=2)
    assert orders[1003].status_changed_at == NOW - timedelta(days=3)
    assert (orders[1004].total_cents, orders[1004].refunded_cents) == (25000, 0)
    assert shipments[1004].status == "delivered" and shipments[1004].delivered_at is not None
    assert refunds == []


def test_order_1003_is_stuck_relative_to_the_real_clock(new_shop_db):
    engine = new_shop_db()
    before = utcnow()
    load_shop(engine, customers=0)
    with Session(engine) as session:
        stuck_since = session.get(Order, 1003).status_changed_at
    assert before - timedelta(days=3, seconds=1) <= stuck_since <= utcnow() - timedelta(days=3)


def test_reload_puts_back_what_tasks_changed_in_named_records(new_shop_db):
    engine = new_shop_db()
    load_shop(engine, customers=10, now=NOW)
    pristine = dump(engine)
    with Session(engine) as session, session.begin():
        session.execute(update(Customer).where(Customer.id == 1).values(status="active", failed_login_count=0))
        session.execute(update(Shipment).where(Shipment.order_id == 1001).values(line1="Elsewhere 1"))
        session.execute(update(Order).where(Order.id == 1004).values(status="refunded", refunded_cents=25000))
        session.add(Refund(order_id=1004, amount_cents=25000, reason="test", created_at=NOW))
    assert dump(engine) != pristine

    counts = load_shop(engine, customers=10, now=NOW)

    assert dump(engine) == pristine
    assert set(counts.values()) == {0}


def test_a_taken_named_email_is_refused_without_writing(new_shop_db):
    engine = new_shop_db()
    load_shop(engine, customers=5, now=NOW)
    with Session(engine) as session, session.begin():
        session.execute(update(Customer).where(Customer.id == 1).values(status="active"))
        session.execute(update(Customer).where(Customer.id == 3).values(email="alice.old@example.com"))
        session.execute(update(Customer).where(Customer.id == 1002).values(email="alice@example.com"))
    before = dump(engine)

    with pytest.raises(NamedRecordConflict, match=r"customers\.email: alice@example\.com .* #1002"):
        load_shop(engine, customers=5, now=NOW)

    assert dump(engine) == before


def test_same_seed_gives_identical_rows_and_another_seed_does_not(new_shop_db):
    first, second, other = new_shop_db(), new_shop_db(), new_shop_db()
    load_shop(first, customers=60, seed=7, now=NOW)
    load_shop(second, customers=60, seed=7, now=NOW)
    load_shop(other, customers=60, seed=8, now=NOW)

    assert dump(first) == dump(second)
    assert dump(first)["customers"] != dump(other)["customers"]
    assert dump(first)["orders"] != dump(other)["orders"]


def test_running_again_adds_nothing(new_shop_db):
    engine = new_shop_db()
    first = load_shop(engine, customers=50, now=NOW)
    counts = row_counts(engine)

    second = load_shop(engine, customers=50, now=NOW)

    assert first == counts
    assert second == dict.fromkeys(TABLES, 0)
    assert row_counts(engine) == counts


def test_a_larger_count_adds_only_the_missing_customers(new_shop_db, monkeypatch):
    # Small random-stream blocks and chunks, so growth resumes mid-block and crosses both.
    monkeypatch.setattr(demo_generated, "RNG_BLOCK", 16)
    monkeypatch.setattr(demo, "CHUNK_CUSTOMERS", 7)
    grown, direct = new_shop_db(), new_shop_db()
    load_shop(grown, customers=30, now=NOW)
    before = row_counts(grown)

    added = load_shop(grown, customers=80, now=NOW)
    monkeypatch.setattr(demo, "CHUNK_CUSTOMERS", 50)
    load_shop(direct, customers=80, now=NOW)

    assert added["customers"] == 50
    assert {t: before[t] + added[t] for t in TABLES} == row_counts(grown)
    assert dump(grown) == dump(direct)
    assert load_shop(grown, customers=20, now=NOW) == dict.fromkeys(TABLES, 0)


def test_generated_customers_look_like_a_real_shop(new_shop_db):
    engine = new_shop_db()
    load_shop(engine, customers=400, now=NOW)
    data = dump(engine)
    generated = [c for c in data["customers"] if c[0] >= 1000]
    orders = [o for o in data["orders"] if o[0] >= 100_000]
    assert len(generated) == 400
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\.\d+@example\.net", c[1]) for c in generated)
    assert [int(c[1].split(".")[2].split("@")[0]) for c in generated] == list(range(400))
    assert 2.5 <= len(orders) / len(generated) <= 3.5
    statuses = Counter(c[4] for c in generated)
    assert statuses["active"] > 350 and statuses["locked"] > 0
    assert any(not c[5] for c in generated)
    order_statuses = Counter(o[2] for o in orders)
    assert order_statuses.most_common(1)[0][0] == "delivered"
    assert {"cancelled", "refunded", "shipped"} <= set(order_statuses)

    totals = Counter()
    for item in data["order_items"]:
        totals[item[1]] += item[4] * item[5]
    assert all(totals[o[0]] == o[4] for o in orders)
    assert Counter(p[1] for p in data["payments"]) == Counter({o[0]: 1 for o in data["orders"]})
    shipped = {o[0] for o in orders if o[2] in ("shipped", "delivered")}
    assert shipped <= {s[1] for s in data["shipments"]}
    refunded = Counter()
    for refund in data["refunds"]:
        refunded[refund[1]] += refund[2]
    assert all(refunded[o[0]] == o[5] for o in orders)
    assert all(refunded[o[0]] == o[4] for o in orders if o[2] == "refunded")
    assert 0 < len(data["email_outbox"]) < len(generated)
    epoch = demo_generated.EPOCH
    assert all(epoch - timedelta(days=731) <= o[6] <= epoch for o in orders)


def test_orm_inserts_after_loading_get_fresh_ids(new_shop_db):
    engine = new_shop_db()
    load_shop(engine, customers=20, now=NOW)
    with Session(engine) as session, session.begin():
        customer = Customer(email="new@example.com", name="New", created_at=NOW, updated_at=NOW)
        session.add(customer)
        session.flush()
        order = Order(customer_id=customer.id, status="paid", total_cents=100, created_at=NOW, updated_at=NOW,
                      status_changed_at=NOW)
        session.add(order)
        session.flush()
        refund = Refund(order_id=1004, amount_cents=100, reason="goodwill", created_at=NOW)
        email = OutboxEmail(customer_id=3, to_address="alice@example.com", template="t", subject="s", created_at=NOW)
        session.add_all([refund, email])
        session.flush()
        ids = {"customers": customer.id, "orders": order.id, "refunds": refund.id, "email_outbox": email.id}
    with engine.connect() as conn:
        for table, new_id in ids.items():
            assert new_id == conn.execute(text(f"SELECT max(id) FROM {table}")).scalar()
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE id = :id"), {"id": new_id}).scalar() == 1


def test_progress_bar_goes_to_stderr(new_shop_db, capsys):
    load_shop(new_shop_db(), customers=5, now=NOW, progress=True)
    captured = capsys.readouterr()
    assert "demo shop" in captured.err and captured.out == ""


def test_a_bad_customer_count_or_seed_is_refused_by_name(new_shop_db):
    engine = new_shop_db()
    for bad in (-1, 1.5, "10", True, None):
        with pytest.raises(ValueError, match="customers must be a whole number"):
            load_shop(engine, customers=bad)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        load_shop(engine, customers=5, seed="x")
    assert row_counts(engine) == dict.fromkeys(TABLES, 0)


def schema_objects(engine) -> dict[str, tuple]:
    """The indexes and foreign keys each shop table has in the database."""
    inspector = inspect(engine)
    return {
        table: (sorted(ix["name"] for ix in inspector.get_indexes(table)),
                sorted(fk["name"] for fk in inspector.get_foreign_keys(table)))
        for table in TABLES
    }


def test_a_big_load_rebuilds_indexes_and_gives_the_same_rows(new_shop_db, monkeypatch):
    small, big = new_shop_db(), new_shop_db()
    expected_schema = schema_objects(small)
    load_shop(small, customers=40, now=NOW)
    monkeypatch.setattr(demo, "REBUILD_INDEXES_FROM", 10)
    dropped = []
    real_drop = Index.drop
    monkeypatch.setattr(Index, "drop", lambda index, *a, **kw: (dropped.append(index.name), real_drop(index, *a, **kw)))

    load_shop(big, customers=40, now=NOW)

    assert "ix_orders_created" in dropped
    assert schema_objects(big) == expected_schema
    with big.connect() as conn:  # ShopBase's own CREATE TABLE still carries its foreign keys
        assert "FOREIGN KEY" in str(CreateTable(ShopBase.metadata.tables["orders"]).compile(conn))
    assert expected_schema["orders"][0] and expected_schema["orders"][1]
    assert dump(big) == dump(small)


def test_an_interrupted_big_load_keeps_whole_customers_and_resumes(new_shop_db, monkeypatch):
    engine, direct = new_shop_db(), new_shop_db()
    expected_schema = schema_objects(engine)
    load_shop(direct, customers=30, now=NOW)
    monkeypatch.setattr(demo, "REBUILD_INDEXES_FROM", 10)
    monkeypatch.setattr(demo, "CHUNK_CUSTOMERS", 12)
    real_batch = demo_generated.ShopGenerator.batch

    def batch_then_fail(generator, start, stop):
        if start >= 12:
            raise KeyboardInterrupt
        return real_batch(generator, start, stop)

    monkeypatch.setattr(demo_generated.ShopGenerator, "batch", batch_then_fail)
    with pytest.raises(KeyboardInterrupt):
        load_shop(engine, customers=30, now=NOW)

    assert schema_objects(engine) == expected_schema
    partial = dump(engine)
    assert [c[0] for c in partial["customers"] if c[0] >= 1000] == list(range(1000, 1012))
    assert {o[1] for o in partial["orders"]} <= {c[0] for c in partial["customers"]}

    monkeypatch.setattr(demo_generated.ShopGenerator, "batch", real_batch)
    load_shop(engine, customers=30, now=NOW)
    assert dump(engine) == dump(direct)


def test_a_load_puts_back_indexes_a_killed_load_left_dropped(new_shop_db):
    engine = new_shop_db()
    expected_schema = schema_objects(engine)
    with engine.begin() as conn:
        if conn.dialect.name != "sqlite":  # first: MySQL keeps the indexes a foreign key relies on
            drop = "FOREIGN KEY" if conn.dialect.name in ("mysql", "mariadb") else "CONSTRAINT"
            conn.exec_driver_sql(f"ALTER TABLE order_items DROP {drop} fk_order_items_order_id_orders")
            conn.exec_driver_sql(f"ALTER TABLE orders DROP {drop} fk_orders_customer_id_customers")
        for index in ShopBase.metadata.tables["orders"].indexes:
            index.drop(conn)
    assert schema_objects(engine) != expected_schema

    load_shop(engine, customers=3, now=NOW)

    assert schema_objects(engine) == expected_schema


def test_the_portable_writer_gives_the_same_rows(new_shop_db, monkeypatch):
    fast, portable = new_shop_db(), new_shop_db()
    load_shop(fast, customers=30, now=NOW)
    monkeypatch.setattr(demo, "_copy_rows", demo._insert_rows)
    monkeypatch.setattr(demo, "_executemany_rows", demo._insert_rows)
    monkeypatch.setattr(demo, "_mysql_rows", demo._insert_rows)

    load_shop(portable, customers=30, now=NOW)

    assert dump(portable) == dump(fast)


def test_mysqls_writer_keeps_quotes_backslashes_and_nulls_as_written(test_databases):
    engine = make_engine(test_databases.new_target())
    if engine.dialect.name not in demo.MYSQL:
        pytest.skip("the MySQL/MariaDB writer")
    ShopBase.metadata.create_all(engine)
    awkward = "O'Brien \\ \"x\" \\n\ttab\n%s ÿ ☃"
    rows = {table: [] for table in TABLES}
    rows["customers"] = [(1, "a@example.net", awkward, None, "active", True, 0, "2026-01-02 03:04:05.000000",
                          "2026-01-02 03:04:05.000000"),
                         (2, "b@example.net", "", "+49 1", "locked", False, 5, "2026-01-02 03:04:05.000000",
                          "2026-01-02 03:04:05.000000")]
    with engine.begin() as conn:
        demo._mysql_rows(conn, rows)
    with engine.connect() as conn:
        written = conn.execute(text("SELECT name, phone, email_confirmed, failed_login_count FROM customers "
                                    "ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in written] == [(awkward, None, True, 0), ("", "+49 1", False, 5)]


def test_a_database_without_the_shop_tables_is_refused_with_what_to_do(new_shop_db):
    engine = new_shop_db()
    ShopBase.metadata.drop_all(engine)
    with pytest.raises(ShopSchemaMissing, match=r"no customers, orders, .* run `support-console init` first"):
        load_shop(engine, customers=5)
    assert inspect(engine).get_table_names() == []
