"""Emails the shop holds in mixed case: found by lookup and by tasks alike, through an index."""
from __future__ import annotations

import pytest

from console.lookup.queries import customer_listing, order_listing, parse_search
from tests.factories import CustomerFactory, OrderFactory

STORED = "Mixed.Case@Example.com"


@pytest.fixture
def mixed(target_db):
    customer = CustomerFactory(email=STORED, locked=True)
    return customer, OrderFactory(customer_id=customer.id)


@pytest.mark.parametrize("typed", ["mixed.case@example.com", STORED, "MIXED.CASE@EXAMPLE.COM"])
def test_a_mixed_case_email_is_found_however_it_is_typed(target_db, mixed, typed):
    customer, order = mixed
    conn = target_db.connection()
    assert [row.id for row in customer_listing(conn, search=parse_search(typed)).page.rows] == [customer.id]
    assert [row.id for row in order_listing(conn, search=parse_search(typed)).page.rows] == [order.id]


@pytest.mark.parametrize("role", ["agent", "product_owner"])
def test_the_customer_list_finds_it_masked(client, login_as, mixed, role):
    customer, _ = mixed
    login_as(role)
    response = client.get("/admin/customers/", query_string={"q": "mixed.case@example.com"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="/admin/customers/{customer.id}"' in html and STORED not in html


def test_a_task_taking_an_email_unlocks_the_mixed_case_customer(mixed, run_task, target_row):
    customer, _ = mixed
    run = run_task("unlock_account", email="mixed.case@example.com")
    assert run.status == "succeeded", run.error
    assert target_row("customers", id=customer.id)["status"] == "active"
    assert run.customer == "mixed.case@example.com"
