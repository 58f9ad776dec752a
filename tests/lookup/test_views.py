"""The customer and order pages: who may open them, what they say, and how few queries they cost."""
from __future__ import annotations

import pytest

from console.permissions import ROLE_PERMISSIONS
from tests.factories import CustomerFactory, OrderFactory
from tests.lookup.conftest import add_order_rows

ROLES = sorted(ROLE_PERMISSIONS)


def _pages(customer, order):
    return [
        "/admin/customers/", f"/admin/customers/{customer.id}", "/admin/customers/?q=alice.lookup@example.com",
        "/admin/orders/", f"/admin/orders/{order.id}", f"/admin/orders/?customer={customer.id}",
    ]


def test_anonymous_users_are_sent_to_login(client, alice):
    customer, orders = alice
    for path in _pages(customer, orders[-1]):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_look_up(client, login_as, alice, role):
    customer, orders = alice
    login_as(role)
    for path in _pages(customer, orders[-1]):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"


def test_the_customer_list_masks_personal_data_for_everyone(client, login_as, alice):
    login_as("admin")
    html = client.get("/admin/customers/?q=alice.look").get_data(as_text=True)
    assert "al•••p@e•••.com" in html
    assert "alice.lookup@example.com" not in html
    assert "Alice Lookup" not in html


def test_the_order_list_shows_each_orders_cells_with_the_customer_masked(client, login_as, alice):
    customer, orders = alice
    OrderFactory(customer_id=customer.id, status="on <hold>", total_cents=123456, refunded_cents=2001)
    login_as("admin")
    html = client.get(f"/admin/orders/?customer={customer.id}").get_data(as_text=True)
    assert all(f'href="/admin/orders/{order.id}"' in html for order in orders)
    assert f'href="/admin/customers/{customer.id}">al•••p@e•••.com</a>' in html
    assert "alice.lookup@example.com" not in html
    assert '<span class="badge badge-success">delivered</span>' in html
    assert '<span class="badge badge-light">on &lt;hold&gt;</span>' in html  # an unknown status, escaped
    assert ">1,234.56 EUR</td>" in html and ">20.01 EUR</td>" in html


def test_unknown_email_and_order_get_not_found(client, login_as):
    login_as("agent")
    html = client.get("/admin/customers/?q=ghost@example.com").get_data(as_text=True)
    assert "No customer with the email address ghost@example.com." in html
    missing = client.get("/admin/orders/99999999")
    assert missing.status_code == 404
    assert "No order with the number 99999999." in missing.get_data(as_text=True)
    assert client.get("/admin/customers/99999999").status_code == 404


def test_bad_parameters_get_a_400_naming_the_problem(client, login_as):
    login_as("agent")
    for path, words in [("/admin/customers/?status=asleep", "Unknown status"),
                        ("/admin/orders/?sort=name", "Unknown sort"),
                        ("/admin/orders/?customer=abc", "customer: give a customer number"),
                        ("/admin/orders/?after=garbage", "page link is broken")]:
        response = client.get(path)
        assert response.status_code == 400, path
        assert words in response.get_data(as_text=True), path


def test_paging_links_lead_to_the_next_and_previous_page(client, login_as):
    login_as("agent")
    customer = CustomerFactory()
    for _ in range(30):
        OrderFactory(customer_id=customer.id)
    first = client.get(f"/admin/orders/?customer={customer.id}").get_data(as_text=True)
    assert 'rel="next"' in first and 'rel="prev"' not in first
    next_href = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_href).get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert second.count("/admin/orders/9") >= 5


def test_detail_pages_show_the_whole_order_and_escape_it(client, login_as, alice):
    customer, orders = alice
    login_as("agent")
    html = client.get(f"/admin/orders/{orders[-1].id}").get_data(as_text=True)
    for words in ("SKU-0", "SKU-1", "captured", "Scratched &lt;b&gt;lid&lt;/b&gt;", "order_paid", "UTC"):
        assert words in html, words
    assert "<b>lid</b>" not in html
    customer_html = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert all(f"/admin/orders/{order.id}" in customer_html for order in orders)


def test_names_are_escaped_even_when_masked(client, login_as):
    CustomerFactory(email="xss@example.com", name="<script>alert(1)</script>")
    login_as("agent")
    html = client.get("/admin/customers/?q=xss@example.com").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;•••" in html


def _target_selects(client, sql_log, path):
    sql_log.statements.clear()
    assert client.get(path).status_code == 200
    return sql_log.selects("target")


def test_the_order_page_costs_one_query_per_table_however_many_rows(client, login_as, target_db, sql_log):
    login_as("agent")
    small, big = OrderFactory(), OrderFactory()
    add_order_rows(target_db, small, items=1)
    add_order_rows(target_db, big, items=12)
    small_queries = _target_selects(client, sql_log, f"/admin/orders/{small.id}")
    big_queries = _target_selects(client, sql_log, f"/admin/orders/{big.id}")
    assert len(small_queries) == len(big_queries) == 7  # order, customer, items, payments, refunds, shipments, emails
    assert len(sql_log.selects()) <= 10  # plus the user and the console's runs


def test_list_and_customer_pages_cost_a_bounded_number_of_queries(client, login_as, alice, sql_log):
    customer, _ = alice
    login_as("agent")
    for _ in range(30):
        OrderFactory()
    assert len(_target_selects(client, sql_log, "/admin/orders/")) == 2  # a page, then its customers
    assert len(_target_selects(client, sql_log, "/admin/customers/")) == 1
    assert len(_target_selects(client, sql_log, "/admin/customers/?status=active")) == 2  # page + bounded count
    assert len(_target_selects(client, sql_log, f"/admin/customers/{customer.id}")) == 3


def test_lists_never_count_everything_or_use_offset(client, login_as, sql_log):
    login_as("agent")
    for _ in range(3):
        OrderFactory()
    sql_log.statements.clear()
    for path in ("/admin/orders/", "/admin/orders/?status=paid", "/admin/orders/?sort=-total", "/admin/customers/",
                 "/admin/customers/?q=customer", "/admin/orders/?page=last"):
        assert client.get(path).status_code == 200, path
    selects = sql_log.selects_with_parameters("target")
    assert any("count(" in sql.lower() for sql, _ in selects)  # the status filter's bounded count ran
    for sql, parameters in selects:
        flat = " ".join(sql.split()).lower()
        if "count(" in flat:
            assert "limit" in flat, flat  # only counts with a bound
        if " offset " in flat:  # SQLite's dialect always writes "LIMIT ? OFFSET ?"; the offset must be 0
            position = flat[:flat.index(" offset ?")].count("?")
            assert parameters[position] == 0, (flat, parameters)


@pytest.mark.parametrize("role", ROLES)
def test_the_home_page_starts_with_the_lookup_box(client, login_as, role):
    login_as(role)
    html = client.get("/admin/").get_data(as_text=True)
    assert "Find a customer or an order" in html
    assert 'action="/admin/customers/"' in html


def test_status_and_sort_names_need_no_url_encoding():
    # The filter links write them into query strings as they are (lookup/_macros.html, filter_links).
    from urllib.parse import quote

    from admin_tasks.shop_schema import CUSTOMER_STATUSES, ORDER_STATUSES
    from console.lookup.queries import CUSTOMER_SORTS, ORDER_SORTS

    for word in (*CUSTOMER_STATUSES, *ORDER_STATUSES, *CUSTOMER_SORTS, *ORDER_SORTS):
        assert quote(word, safe="") == word, word


def test_filter_links_keep_the_customer_and_the_status(client, login_as):
    customer = CustomerFactory()
    OrderFactory(customer_id=customer.id, status="paid")
    login_as("agent")
    html = client.get(f"/admin/orders/?customer={customer.id}&status=paid").get_data(as_text=True)
    assert f'href="/admin/orders/?customer={customer.id}&amp;status=shipped"' in html
    assert f'href="/admin/orders/?customer={customer.id}&amp;status=paid&amp;sort=created"' in html
    assert f'href="/admin/orders/?customer={customer.id}"' in html  # "any" status
    weird = client.get("/admin/orders/?status=a%26b").get_data(as_text=True)  # a bad status is encoded, not pasted
    assert 'href="/admin/orders/?status=a%26b&amp;sort=-created"' in weird
