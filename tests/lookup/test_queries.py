"""Search semantics, filters, sorts and keyset paging of the customer and order lists."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import select

from admin_tasks.shop_schema import Customer
from console.lookup import queries
from console.lookup.paging import BadCursor, bounded_count
from console.lookup.queries import LookupInputError, Search, customer_listing, like_prefix, order_listing, parse_search
from tests.factories import CustomerFactory, OrderFactory
from tests.lookup.conftest import T0


@pytest.mark.parametrize("raw, kind, value", [
    ("1004", "number", 1004),
    (" #1004 ", "number", 1004),
    ("Alice@Example.com", "email", "alice@example.com"),
    ("alice@example", "prefix", "alice@example"),
    ("ALI", "prefix", "ali"),
    ("", "none", None),
    ("   ", "none", None),
])
def test_the_search_box_reads_numbers_addresses_and_prefixes(raw, kind, value):
    search = parse_search(raw)
    assert search.kind == kind
    if kind == "number":
        assert search.number == value
    elif kind != "none":
        assert search.text == value


def test_an_overlong_search_names_the_field():
    with pytest.raises(LookupInputError) as error:
        parse_search("a" * 255)
    assert error.value.field == "q"


def test_like_wildcards_in_a_prefix_are_taken_literally():
    assert like_prefix("a_b%c/d") == "a/_b/%c//d%"


def test_prefix_search_does_not_treat_underscore_as_a_wildcard(target_db):
    CustomerFactory(email="a_b@example.com")
    CustomerFactory(email="axb@example.com")
    rows = customer_listing(target_db, search=parse_search("a_")).page.rows
    assert [row.email for row in rows] == ["a_b@example.com"]


def test_exact_email_finds_one_customer(target_db):
    wanted = CustomerFactory(email="exact@example.com")
    CustomerFactory(email="exact@example.com.au")
    listing = customer_listing(target_db, search=parse_search("EXACT@example.com"))
    assert [row.id for row in listing.page.rows] == [wanted.id]
    assert listing.not_found is None


def test_unknown_email_is_not_found_with_a_clear_message(target_db):
    listing = customer_listing(target_db, search=parse_search("nobody@example.com"))
    assert listing.page.rows == []
    assert listing.not_found == "No customer with the email address nobody@example.com."


def test_a_number_finds_the_customer_and_the_customer_who_placed_that_order(target_db):
    owner = CustomerFactory()
    order = OrderFactory(customer_id=owner.id)
    same_number = CustomerFactory(id=order.id)
    listing = customer_listing(target_db, search=Search("number", str(order.id), order.id))
    assert {row.id for row in listing.page.rows} == {owner.id, same_number.id}
    assert listing.matched[owner.id] == f"placed order {order.id}"
    assert listing.matched[same_number.id] == f"customer number {order.id}"


def test_an_unknown_or_huge_number_is_not_found(target_db):
    for number in (424242, 2**40):
        listing = customer_listing(target_db, search=Search("number", str(number), number))
        assert listing.not_found == f"No customer or order has the number {number}."


def test_prefix_search_counts_with_a_bound(target_db):
    for n in range(5):
        CustomerFactory(email=f"bounded{n}@example.com")
    listing = customer_listing(target_db, search=parse_search("bounded"))
    assert listing.count == (5, False)
    statement = select(Customer.id).where(Customer.email.like("bounded%"))
    assert bounded_count(target_db, statement, bound=3) == (3, True)
    assert bounded_count(target_db, statement, bound=5) == (5, False)


def test_status_filter_lists_only_that_status_newest_first(target_db):
    old = CustomerFactory(locked=True, created_at=T0)
    new = CustomerFactory(locked=True, created_at=T0 + timedelta(days=1))
    CustomerFactory(created_at=T0 + timedelta(days=2))
    listing = customer_listing(target_db, search=parse_search(""), status="locked")
    assert [row.id for row in listing.page.rows] == [new.id, old.id]
    assert listing.count == (2, False)


def test_an_unknown_status_or_sort_names_the_field(target_db):
    with pytest.raises(LookupInputError) as error:
        customer_listing(target_db, search=parse_search(""), status="asleep")
    assert error.value.field == "status" and "asleep" in error.value.message
    with pytest.raises(LookupInputError) as error:
        order_listing(target_db, search=parse_search(""), sort="-name")
    assert error.value.field == "sort"


def test_a_sort_without_an_index_for_the_filter_falls_back_with_a_notice(target_db):
    listing = order_listing(target_db, search=parse_search(""), status="paid", sort="-total")
    assert listing.page.sort.param == "-created"
    assert "cannot be combined with a filter" in listing.notices[0]


def _orders(n, **fields):
    return [OrderFactory(created_at=T0 + timedelta(minutes=i), total_cents=1000 + (i % 3), **fields)
            for i in range(n)]


@pytest.mark.parametrize("sort", list(queries.ORDER_SORTS))
def test_keyset_paging_walks_every_order_once_forwards_and_backwards(target_db, sort):
    customer = CustomerFactory()
    _orders(7, customer_id=customer.id)

    def page(**kw):
        return order_listing(target_db, search=parse_search(""), sort=sort, size=3, **kw).page

    pages = [page()]
    while pages[-1].next_cursor:
        pages.append(page(direction="after", cursor=pages[-1].next_cursor))
    seen = [row.id for p in pages for row in p.rows]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert [len(p.rows) for p in pages] == [3, 3, 1]
    assert not pages[0].has_prev and pages[1].has_prev and not pages[-1].has_next
    back = page(direction="before", cursor=pages[2].prev_cursor)
    assert [r.id for r in back.rows] == [r.id for r in pages[1].rows]
    assert back.has_next and back.has_prev
    back_to_first = page(direction="before", cursor=pages[1].prev_cursor)
    assert [r.id for r in back_to_first.rows] == [r.id for r in pages[0].rows]
    assert not back_to_first.has_prev
    last = page(direction="last")
    assert [r.id for r in last.rows] == seen[-3:]
    assert last.has_prev and not last.has_next


def test_the_order_follows_the_sort_with_ties_broken_by_number(target_db):
    _orders(6)
    rows = order_listing(target_db, search=parse_search(""), sort="-total").page.rows
    keys = [(row.total_cents, row.id) for row in rows]
    assert keys == sorted(keys, reverse=True)


def test_a_customers_orders_are_paged_newest_first(target_db):
    customer = CustomerFactory()
    orders = _orders(4, customer_id=customer.id)
    _orders(2)
    listing = order_listing(target_db, search=parse_search(""), customer_id=customer.id, size=3)
    assert [row.id for row in listing.page.rows] == [o.id for o in reversed(orders)][:3]
    assert listing.count == (4, False)
    assert listing.customers == {customer.id: customer.email}


def test_orders_by_the_customers_email_and_by_number(target_db):
    customer = CustomerFactory(email="orders.of@example.com")
    order = OrderFactory(customer_id=customer.id)
    by_email = order_listing(target_db, search=parse_search("orders.of@example.com"))
    assert [row.id for row in by_email.page.rows] == [order.id]
    by_number = order_listing(target_db, search=parse_search(str(order.id)))
    assert [row.id for row in by_number.page.rows] == [order.id]
    assert by_number.customers[customer.id] == "orders.of@example.com"


def test_unknown_orders_are_not_found_with_a_clear_message(target_db):
    assert order_listing(target_db, search=parse_search("987654")).not_found == "No order with the number 987654."
    assert (order_listing(target_db, search=parse_search("ghost@example.com")).not_found
            == "No customer with the email address ghost@example.com.")
    assert "full email address" in order_listing(target_db, search=parse_search("ghost")).not_found


def test_a_bad_cursor_is_refused(target_db):
    with pytest.raises(BadCursor):
        order_listing(target_db, search=parse_search(""), sort="-created", direction="after", cursor="yesterday~1")
    with pytest.raises(BadCursor):
        order_listing(target_db, search=parse_search(""), sort="-id", direction="after", cursor="1~2")


def test_prefix_results_page_in_byte_order_both_ways(target_db):
    emails = ["pg.b@example.com", "pg.a@example.com", "pg.z@example.com", "pg.C@example.com", "pg.-@example.com"]
    for email in emails:
        CustomerFactory(email=email.lower())
    expected = sorted(e.lower() for e in emails)  # byte order: '-' < 'a' < 'b' < 'c' < 'z'

    def page(**kw):
        return customer_listing(target_db, search=parse_search("pg."), size=2, **kw).page

    pages = [page()]
    while pages[-1].next_cursor:
        pages.append(page(direction="after", cursor=pages[-1].next_cursor))
    assert [row.email for p in pages for row in p.rows] == expected
    back = page(direction="before", cursor=pages[-1].prev_cursor)
    assert [row.email for row in back.rows] == expected[2:4]
    assert [row.email for row in page(direction="last").rows] == expected[3:]
