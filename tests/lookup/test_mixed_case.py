"""Emails the shop holds in mixed case (console/folding.py): found by lookup and by tasks alike, through an index."""
from __future__ import annotations

import pytest

from console.lookup import listing
from tests.factories import CustomerFactory, OrderFactory

STORED = "Mixed.Case@Example.com"


@pytest.fixture
def mixed(target_db):
    customer = CustomerFactory(email=STORED, locked=True)
    return customer, OrderFactory(customer_id=customer.id)


@pytest.mark.parametrize("typed", ["mixed.case@example.com", STORED, "MIXED.CASE@EXAMPLE.COM"])
def test_a_mixed_case_email_is_found_exactly_however_it_is_typed(app, target_db, mixed, typed):
    customer, _ = mixed
    customers = app.extensions["product_schema"].record("customers")
    # MySQL and MariaDB compare in a collation that ignores case: the email's own index serves it unfolded.
    assert ("email" in customers.folded) == (target_db.connection().dialect.name in ("sqlite", "postgresql"))
    found = listing.search(target_db.connection(), customers, typed, partial=False)  # exact keys only
    assert [(phase.kind, row.id) for phase, row in found.found] == [("exact", customer.id)]
    assert [row.id for _phase, row in listing.exact_matches(target_db.connection(), customers, typed)] == [customer.id]


@pytest.mark.parametrize("role", ["agent", "product_owner"])
def test_the_customer_list_finds_it_masked(client, login_as, mixed, role):
    customer, _ = mixed
    login_as(role)
    response = client.get("/admin/records/customers/", query_string={"q": "mixed.case@example.com"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="/admin/records/customers/{customer.id}"' in html and STORED not in html


def test_the_home_search_lands_on_it(client, login_as, mixed):
    customer, _ = mixed
    login_as("product_owner")
    response = client.get("/admin/records/find", query_string={"q": "MIXED.case@example.COM"})
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/records/customers/{customer.id}"


def test_a_task_taking_an_email_unlocks_the_mixed_case_customer(mixed, run_task, target_row):
    customer, _ = mixed
    run = run_task("unlock_account", email="mixed.case@example.com")
    assert run.status == "succeeded", run.error
    assert target_row("customers", id=customer.id)["status"] == "active"
    assert run.customer == "mixed.case@example.com"
