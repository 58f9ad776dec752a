"""The console's record pages as the benchmarks drive them: every URL, and the text that proves a page right.

The lookup, http, calls and memory suites take the console's URLs from here and nowhere else, so when
the pages move (hand-written customer and order pages today, generic record pages later) this file is
the one to repoint. Each `expect` is text the right answer contains, so that a fast wrong page (a
redirect to the login form, an empty result) cannot pass for a fast page.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select

from console.lookup import listing as record_listing

CUSTOMERS = "/admin/records/customers/"
ORDERS = "/admin/records/orders/"
LIST_EXPECT = "Newest first"  # the sort menu of every list
NEXT_PAGE_EXPECT = 'rel="prev"'  # a page after the first links back
CUSTOMER_EXPECT = "Created"  # the customer page, and each row of the customers list
ORDER_EXPECT = "Order items"  # the order page
ORDER_ROW_EXPECT = "Order"
SEARCH_MATCHES_EXPECT = "match"  # a search that found several: "N matches"


@dataclass(frozen=True)
class Sort:
    """One sort the console offers on a list, and the stock column that gives the same order."""

    param: str  # the console's ?sort= value
    label: str
    column: str  # the shop's column it sorts by (stock Flask-Admin sorts by column)
    descending: bool


def list_shapes(app) -> dict:
    """Each list's shape (its sorts and the one it shows first), as the product's declarations make it."""
    with app.app_context():
        schema = app.extensions["product_schema"]
        return {name: record_listing.shape(schema, schema.record(name)) for name in ("customers", "orders")}


def sorts(shape) -> tuple[Sort, ...]:
    return tuple(Sort(param, order.label, order.columns[0].key, order.descending)
                 for param, order in shape.sorts.items())


def customer(customer_id: int) -> str:
    return f"{CUSTOMERS}{customer_id}"


def order(order_id: int) -> str:
    return f"{ORDERS}{order_id}"


def listing(table: str, **params: str) -> str:
    """A list page (`table` is customers or orders) with its query string: q, status, sort, after, page."""
    base = CUSTOMERS if table == "customers" else ORDERS
    query = "&".join(f"{name}={quote(str(value), safe='')}" for name, value in params.items())
    return f"{base}?{query}" if query else base


def search(text: str) -> str:
    """The customers search box: a full email, the start of one, or a part of one (three letters or digits in a row)."""
    return listing("customers", q=text)


def search_found(customer_id: int) -> str:
    """What a search page shows when it found this customer: a link to the customer's page."""
    return customer(customer_id)


def deep_page(session, table: str, shape, offset: int) -> str:
    """The console's list page that starts `offset` rows into its default order (a keyset cursor, not OFFSET)."""
    sort = shape.sorts[shape.default]
    ordered = select(*sort.columns).order_by(*(c.desc() if sort.descending else c for c in sort.columns))
    row = session.execute(ordered.offset(offset).limit(1)).first()
    return listing(table, after=sort.encode(row))
