"""A record's picture (console.lookup.records): the rows a list's links point at, found by one query."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from console.lookup import records
from tests.factories import CustomerFactory, OrderFactory


@pytest.mark.parametrize("customers", [1, 2, 3, 5, 17])
def test_parents_finds_each_rows_parent_whatever_the_number_of_keys(app, target_db, customers):
    # The titles' IN list has a power of two of parameters, the last key repeated: 3 keys ask for 4.
    people = [CustomerFactory(name=f"Parent {n}") for n in range(customers)]
    for person in people:
        OrderFactory(customer_id=person.id)
        OrderFactory(customer_id=person.id)
    schema = app.extensions["product_schema"]
    orders = schema.record("orders")
    conn = target_db.connection()
    rows = conn.execute(select(*(orders.table.c[name] for name in orders.list_names))
                        .where(orders.table.c.customer_id.in_([p.id for p in people]))).all()
    found = records.parents(conn, schema, orders, rows)
    other, by_key, fields = found["customer_id"]
    assert other is schema.record("customers")
    assert sorted(by_key) == sorted(p.id for p in people)
    assert {key: row._mapping["name"] for key, row in by_key.items()} == {p.id: p.name for p in people}
    assert fields == next(iter(by_key.values()))._fields and fields[0] == "id"
    assert records.parents(conn, schema, orders, []) == {}


def test_parents_reuses_the_rows_a_page_holds_and_reads_them_by_name_when_their_columns_differ(app, target_db):
    person = CustomerFactory()
    order = OrderFactory(customer_id=person.id)
    schema = app.extensions["product_schema"]
    conn = target_db.connection()
    page = records.load(conn, schema, schema.record("orders"), str(order.id))
    known = page.known()
    rows = [r for relation in page.related if relation.via == "customer_id" for r in relation.rows]
    orders = schema.record("orders")
    order_rows = conn.execute(select(*(orders.table.c[n] for n in orders.list_names))
                              .where(orders.table.c.id == order.id)).all()
    _other, by_key, fields = records.parents(conn, schema, orders, order_rows, known=known)["customer_id"]
    assert by_key is known["customers"] and fields == rows[0]._fields
    # A row of the record itself beside one of a list statement: no shared columns, so read by name.
    mixed = {**known["customers"], -1: page.row}
    _other, _by_key, fields = records.parents(conn, schema, orders, order_rows,
                                              known={"customers": mixed})["customer_id"]
    assert fields is None
