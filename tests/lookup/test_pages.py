"""The record pages of the demo shop: who may open them, what they show, search, paging, and bad input."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console.audit.models import AuditEntry
from console.permissions import REVEAL_PII, ROLE_PERMISSIONS, role_can
from tests.factories import CustomerFactory, OrderFactory

ROLES = sorted(ROLE_PERMISSIONS)


def _pages(customer, order):
    return [
        "/admin/records/", "/admin/records/customers/", f"/admin/records/customers/{customer.id}",
        "/admin/records/customers/?q=alice.lookup@example.com", "/admin/records/orders/",
        f"/admin/records/orders/{order.id}", f"/admin/records/orders/?customer_id={customer.id}",
        "/admin/records/shipments/", "/admin/records/find?q=alice.lookup",
    ]


def _keys(html: str, record: str) -> list[str]:
    """The record keys a list links to, in page order (each row's first link, after its checkbox if any)."""
    return re.findall(rf'<tr>(?:<td><input type="checkbox"[^>]*></td>)?<td><a href="/admin/records/{record}/([^"]+)">',
                      html)


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
        # The start of an email is for roles that may reveal it (console.product.searches): the others are
        # told so, naming the search box, where it is all the search could match.
        partial = path.endswith("q=alice.lookup") and not role_can(role, REVEAL_PII)
        assert response.status_code == (403 if partial else 200), path
        assert response.headers["Cache-Control"] == "no-store"
        if partial:
            assert "Search: your role (Product owner) may not search customers by part of email" in \
                response.get_data(as_text=True)


def test_the_menu_lists_the_records_agents_start_from_and_marks_the_one_shown(client, login_as, alice):
    login_as("agent")
    html = client.get("/admin/records/orders/").get_data(as_text=True)
    nav = html[html.index("<nav"):html.index("</nav>")]
    links = re.findall(r'<li( class="[^"]*")?>\s*<a[^>]*href="/admin/records/(\w+)/"', nav)
    assert [record for _, record in links] == ["customers", "orders"]  # not shipments, items, emails...
    assert [record for classes, record in links if "active" in classes] == ["orders"]
    customers = client.get("/admin/records/customers/").get_data(as_text=True)
    nav = customers[customers.index("<nav"):customers.index("</nav>")]
    assert [r for c, r in re.findall(r'<li( class="[^"]*")?>\s*<a[^>]*href="/admin/records/(\w+)/"', nav)
            if "active" in c] == ["customers"]


def test_the_old_addresses_redirect_to_the_record_pages(client, alice):
    customer, orders = alice
    assert client.get("/admin/customers/?q=x&status=locked").headers["Location"] == \
        "/admin/records/customers/?q=x&status=locked"
    assert client.get(f"/admin/orders/{orders[0].id}").headers["Location"] == f"/admin/records/orders/{orders[0].id}"
    assert client.get("/admin/shipments/").status_code == 404  # only the menu's records had pages before


def test_lists_mask_personal_data_for_everyone_and_show_money_in_units(client, login_as, alice):
    customer, orders = alice
    OrderFactory(customer_id=customer.id, status="on <hold>", total_cents=123456, refunded_cents=2001)
    login_as("admin")
    people = client.get("/admin/records/customers/?q=alice.look").get_data(as_text=True)
    assert "al•••p@e•••.com" in people and "alice.lookup@example.com" not in people and "Alice Lookup" not in people
    html = client.get(f"/admin/records/orders/?customer_id={customer.id}").get_data(as_text=True)
    assert all(f'href="/admin/records/orders/{order.id}"' in html for order in orders)
    assert f'href="/admin/records/customers/{customer.id}">A••• L••• &lt;al•••p@e•••.com&gt;</a>' in html
    assert "alice.lookup@example.com" not in html
    assert '<span class="badge badge-success">delivered</span>' in html
    assert '<span class="badge badge-light">on &lt;hold&gt;</span>' in html  # an undeclared status, escaped
    assert ">EUR 1,234.56</td>" in html and ">EUR 20.01</td>" in html and "123456" not in html


def test_a_search_lists_exact_matches_first_then_prefixes(client, login_as, target_db):
    exact = CustomerFactory(email="ann@example.com")
    longer = [CustomerFactory(email=f"ann{n}@example.com") for n in range(3)]
    login_as("agent")
    html = client.get("/admin/records/customers/?q=ann@example.com").get_data(as_text=True)
    assert _keys(html, "customers") == [str(exact.id)]
    lead = client.get("/admin/records/customers/?q=ann").get_data(as_text=True)
    assert _keys(lead, "customers") == [str(c.id) for c in sorted([exact, *longer], key=lambda c: c.email)]
    assert "4 matches" in lead
    by_number = client.get(f"/admin/records/customers/?q={longer[1].id}").get_data(as_text=True)
    assert _keys(by_number, "customers") == [str(longer[1].id)]


def test_a_search_that_matches_nothing_says_so(client, login_as, alice):
    login_as("agent")
    html = client.get("/admin/records/customers/?q=nobody.here@example.com").get_data(as_text=True)
    assert 'id="not-found"' in html and "No customers match" in html
    orders = client.get("/admin/records/orders/?q=99999999").get_data(as_text=True)
    assert 'id="not-found"' in orders


def _walk(client, first: str, record: str) -> tuple[list[list[str]], str]:
    """Follow the next links from `first` to the end: every page's keys, and the last page's HTML."""
    pages, html = [], client.get(first).get_data(as_text=True)
    while True:
        pages.append(_keys(html, record))
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            return pages, html
        html = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)


@pytest.mark.parametrize("first", ["/admin/records/customers/?q=pager", "/admin/records/customers/?sort=id",
                                   "/admin/records/customers/?sort=-created_at"])
def test_paging_walks_every_row_once_both_ways(client, login_as, target_db, first):
    for n in range(60):
        CustomerFactory(email=f"pager{n:02d}~x@example.com")
    login_as("agent")
    pages, last_html = _walk(client, first, "customers")
    forwards = [key for page in pages for key in page]
    assert len(forwards) == len(set(forwards)) and all(len(page) == 25 for page in pages[:-1])
    if "q=" in first:
        assert len(forwards) == 60
    backwards, html = [], last_html
    while True:
        backwards[:0] = _keys(html, "customers")
        found = re.search(r'href="([^"]+)" rel="prev"', html)
        if not found:
            break
        html = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert backwards == forwards
    last = client.get(first + "&page=last").get_data(as_text=True)
    # The last page is the last 25 rows (keyset pages are not numbered), with no next page.
    assert _keys(last, "customers") == forwards[-25:] and 'rel="next"' not in last and 'rel="first"' in last


def test_the_status_filter_combines_only_with_an_indexed_sort(client, login_as, target_db):
    locked = [CustomerFactory(locked=True) for _ in range(3)]
    login_as("agent")
    html = client.get("/admin/records/customers/?status=locked").get_data(as_text=True)
    assert set(_keys(html, "customers")) >= {str(c.id) for c in locked}
    assert all(badge == "locked" for badge in re.findall(r'badge badge-\w+">(\w+)</span></td>', html))
    narrowed = client.get("/admin/records/customers/?status=locked&sort=id").get_data(as_text=True)
    assert "cannot be combined with this filter" in narrowed
    sorts = re.findall(r'sort=([-\w]+)"', html)
    assert sorts and set(sorts) <= {"-created_at", "created_at"}


@pytest.mark.parametrize("path, field", [
    ("/admin/records/customers/?status=happy", "Unknown status"),
    ("/admin/records/customers/?sort=email", "Unknown sort"),
    ("/admin/records/orders/?customer_id=abc", "Customer id: give a number"),
    ("/admin/records/orders/?customer_id=%C2%B2", "Customer id: give a number"),
    ("/admin/records/customers/?after=not~a~cursor~at~all", "This page link is broken"),
    ("/admin/records/customers/?sort=id&before=xyz", "This page link is broken"),
    ("/admin/records/customers/?q=ann&after=9.ann@example.com", "This page link is broken"),
    ("/admin/records/customers/?q=ann&after=zz", "This page link is broken"),
    ("/admin/records/customers/?q=" + "a" * 300, "Search: at most 254 characters"),
    ("/admin/records/customers/?q=alice%40example.com%00", "Search: a NUL character"),  # found by the form fuzzer
    ("/admin/records/find?q=alice%00lookup", "Search: a NUL character"),
    ("/admin/records/customers/?q=ann&after=0.", "This page link is broken"),
])
def test_bad_input_is_a_clear_400_never_a_500(client, login_as, alice, path, field):
    login_as("agent")
    response = client.get(path)
    assert response.status_code == 400, path
    assert field in response.get_data(as_text=True)


def test_unknown_records_and_keys_are_404(client, login_as, alice):
    login_as("agent")
    for path in ("/admin/records/nothing/", "/admin/records/nothing/1", "/admin/records/customers/999999999",
                 "/admin/records/customers/abc", f"/admin/records/orders/{2**70}"):
        assert client.get(path).status_code == 404, path


def test_the_detail_page_shows_fields_badges_money_and_related_records(client, login_as, alice):
    customer, orders = alice
    newest = orders[-1]
    login_as("agent")
    html = client.get(f"/admin/records/orders/{newest.id}").get_data(as_text=True)
    heading = html[html.index("<h1"):html.index("</h1>")]
    assert f"Order {newest.id}" in heading and '<span class="badge badge-info">paid</span>' in heading
    assert "<td>EUR 99.00</td>" in html and "9900" not in html
    assert f'<a href="/admin/records/customers/{customer.id}">A••• L••• &lt;al•••p@e•••.com&gt;</a>' in html
    for section in ("Customer", "Order items", "Payments", "Refunds", "Shipments", "Emails sent"):
        assert f">{section}</h2>" in html, section
    assert "Scratched &lt;b&gt;lid&lt;/b&gt;" in html  # a refund's reason, escaped
    assert "L•••" in html and "Lindenstr" not in html and "10•••" in html  # the shipment's address, masked
    page = client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)
    orders_section = page[page.index('id="related-orders"'):page.index('id="related-outbox_emails"')]
    assert _keys(orders_section, "orders") == [str(o.id) for o in sorted(orders, key=lambda o: -o.id)]
    assert "customer_id" not in orders_section and "Customer</th>" not in orders_section  # it is this customer


def test_a_long_relation_links_to_the_rest(client, login_as, target_db):
    customer = CustomerFactory()
    for _ in range(21):
        OrderFactory(customer_id=customer.id)
    login_as("agent")
    html = client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)
    assert "Orders (the 20 most recent)" in html
    assert f'href="/admin/records/orders/?customer_id={customer.id}">All orders of this customer' in html
    listed = client.get(f"/admin/records/orders/?customer_id={customer.id}").get_data(as_text=True)
    assert "21 matches" in listed and f"of <a href=\"/admin/records/customers/{customer.id}\">customer" in listed


def test_the_home_search_lands_on_the_one_record_an_exact_key_finds(client, login_as, alice, console_db):
    customer, orders = alice
    login_as("agent")
    found = client.get("/admin/records/find?q=alice.lookup@example.com")
    assert found.status_code == 302 and found.headers["Location"] == f"/admin/records/customers/{customer.id}"
    [audited] = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.search")).all()
    assert audited.subject_type == "customers" and "alice.lookup" not in audited.details
    by_number = client.get(f"/admin/records/find?q={orders[0].id}")
    assert by_number.headers["Location"] == f"/admin/records/orders/{orders[0].id}" or by_number.status_code == 200
    assert len(console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.search")).all()) == 1
    home = client.get("/admin/").get_data(as_text=True)
    assert 'action="/admin/records/find"' in home and "Find a customer or an order" in home
    several = client.get("/admin/records/find?q=alice.look")
    assert several.status_code == 200 and f"/admin/records/customers/{customer.id}" in several.get_data(as_text=True)
    nothing = client.get("/admin/records/find?q=zzzz-nothing").get_data(as_text=True)
    assert 'id="not-found"' in nothing


def test_the_home_search_of_a_number_held_by_two_records_lists_both(client, login_as, target_db):
    customer = CustomerFactory(id=7_777_001)
    OrderFactory(id=7_777_001, customer_id=customer.id)
    login_as("agent")
    response = client.get("/admin/records/find?q=7777001")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/admin/records/customers/7777001"' in html and 'href="/admin/records/orders/7777001"' in html
