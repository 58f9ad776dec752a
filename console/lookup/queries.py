"""Finding customers and orders: what a search box means, and list pages that only walk indexes.

Every list is keyset-paged over an indexed order (see paging.py); a filter only combines with
the sorts an index serves, and any other combination is narrowed with a notice rather than
turned into a table scan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from admin_tasks.shop_schema import CUSTOMER_STATUSES, ORDER_STATUSES, Customer, Order
from console.folding import folded
from console.lookup.paging import PAGE_SIZE, Page, SortOrder, bounded_count, keyset_page, prebuilt

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the shop's schema
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIKE_ESCAPE = "/"

CUSTOMER_COLUMNS = (Customer.id, Customer.email, Customer.name, Customer.status, Customer.email_confirmed,
                    Customer.failed_login_count, Customer.created_at)
ORDER_COLUMNS = (Order.id, Order.customer_id, Order.status, Order.currency, Order.total_cents,
                 Order.refunded_cents, Order.created_at, Order.status_changed_at)


def _sorts(*orders: SortOrder) -> dict[str, SortOrder]:
    return {order.param: order for order in orders}


CUSTOMER_SORTS = _sorts(
    SortOrder("created", "Newest first", (Customer.created_at, Customer.id), True),
    SortOrder("created", "Oldest first", (Customer.created_at, Customer.id), False),
    SortOrder("id", "Highest number first", (Customer.id,), True),
    SortOrder("id", "Lowest number first", (Customer.id,), False),
)
ORDER_SORTS = _sorts(
    SortOrder("created", "Newest first", (Order.created_at, Order.id), True),
    SortOrder("created", "Oldest first", (Order.created_at, Order.id), False),
    SortOrder("total", "Largest total first", (Order.total_cents, Order.id), True),
    SortOrder("total", "Smallest total first", (Order.total_cents, Order.id), False),
    SortOrder("id", "Highest number first", (Order.id,), True),
    SortOrder("id", "Lowest number first", (Order.id,), False),
)
EMAIL_ORDER = SortOrder("email", "Email A to Z", (Customer.email,), False, byte_order=True)
# What each list can filter on, as conditions on bound parameters named like the filter.
_FILTERS = {
    "customers": (CUSTOMER_COLUMNS, {
        "status": lambda: Customer.status == bindparam("status"),
        "email": lambda: folded(Customer.email) == bindparam("email"),
        "prefix": lambda: Customer.email.like(bindparam("prefix"), escape=LIKE_ESCAPE),
    }),
    "orders": (ORDER_COLUMNS, {
        "customer_id": lambda: Order.customer_id == bindparam("customer_id"),
        "status": lambda: Order.status == bindparam("status"),
    }),
}
_CUSTOMER_ID_BY_EMAIL = select(Customer.id).where(folded(Customer.email) == bindparam("email"))
_CUSTOMER_EMAILS = select(Customer.id, Customer.email).where(Customer.id.in_(bindparam("ids", expanding=True)))


def _list(table: str, params: dict):
    """The list's SELECT filtered on every key of `params` (in their order), built once per combination."""
    columns, conditions = _FILTERS[table]
    names = tuple(params)
    return prebuilt((table, names), lambda: select(*columns).where(*(conditions[name]() for name in names)))


# The only orders an index serves together with a status or customer filter.
FILTERED_SORTS = ("-created", "created")
DEFAULT_SORT = "-created"


class LookupInputError(ValueError):
    """A search parameter is not valid; `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Search:
    """What the search box was asked: a number, a full email address, or the start of an email."""

    kind: str  # "none", "number", "email" or "prefix"
    text: str = ""
    number: int | None = None


def parse_search(raw: str | None) -> Search:
    """Read the search box: digits are an order or customer number, a full address an email."""
    text = (raw or "").strip()
    if not text:
        return Search("none")
    digits = text.lstrip("#")
    if digits.isascii() and digits.isdigit():
        return Search("number", digits, int(digits))
    if len(text) > 254:
        raise LookupInputError("q", "The search is longer than any email address (254 characters).")
    if EMAIL_ADDRESS.match(text):
        return Search("email", text.lower())
    return Search("prefix", text.lower())


def like_prefix(prefix: str) -> str:
    """Return a LIKE pattern matching values that start with `prefix`, wildcards escaped."""
    escaped = prefix.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
    return escaped.replace("_", LIKE_ESCAPE + "_") + "%"


@dataclass
class Listing:
    """A list page's rows plus what the user should be told about it."""

    page: Page
    notices: list[str] = field(default_factory=list)
    not_found: str | None = None
    count: tuple[int, bool] | None = None  # (matches up to the bound, more than the bound)
    matched: dict[int, str] = field(default_factory=dict)  # row id -> why a number search matched it
    customers: dict[int, str] = field(default_factory=dict)  # order lists: customer id -> email
    # Customers a search on personal data matched (as `count`), for its audit; None when it matched none.
    personal_matches: tuple[int, bool] | None = None


def pick_sort(sorts: dict[str, SortOrder], param: str | None, *, filtered: bool, notices: list[str]) -> SortOrder:
    """Return the requested sort, or the default one when an active filter has no index for it."""
    param = param or DEFAULT_SORT
    if param not in sorts:
        raise LookupInputError("sort", f"Unknown sort {param!r}; choose one of: {', '.join(sorts)}.")
    if filtered and param not in FILTERED_SORTS:
        notices.append(f"“{sorts[param].label}” cannot be combined with a filter, so the list is sorted "
                       f"newest first.")
        param = DEFAULT_SORT
    return sorts[param]


def check_status(status: str | None, allowed: tuple[str, ...]) -> str | None:
    if not status:
        return None
    if status not in allowed:
        raise LookupInputError("status", f"Unknown status {status!r}; choose one of: {', '.join(allowed)}.")
    return status


def customer_listing(session: Session | Connection, *, search: Search, status: str | None = None,
                     sort: str | None = None, direction: str = "first", cursor: str | None = None,
                     size: int = PAGE_SIZE) -> Listing:
    """Return one page of customers for the list: a search, a status filter, or everyone."""
    status = check_status(status, CUSTOMER_STATUSES)
    notices: list[str] = []
    if search.kind == "number":
        return _customers_by_number(session, select(*CUSTOMER_COLUMNS), search.number, status)
    if search.kind == "email":
        params = {"status": status} if status else {}
        params["email"] = search.text
        rows = session.execute(_list("customers", params), params).all()
        listing = Listing(Page(rows, CUSTOMER_SORTS[DEFAULT_SORT]),
                          personal_matches=(len(rows), False) if rows else None)
        if not rows:
            listing.not_found = (f"No customer with the email address {search.text}"
                                 + (f" and status {status}." if status else "."))
        return listing
    if search.kind == "prefix":
        if status:
            notices.append("The status filter does not combine with a search by the start of an email; "
                           "showing every status.")
        if sort and sort not in CUSTOMER_SORTS:
            pick_sort(CUSTOMER_SORTS, sort, filtered=False, notices=notices)  # names the bad value
        params = {"prefix": like_prefix(search.text)}
        statement = _list("customers", params)
        page = keyset_page(session, statement, EMAIL_ORDER, direction=direction, cursor=cursor, size=size,
                           params=params)
        listing = Listing(page, notices, count=bounded_count(session, statement, params=params) if page.rows else None)
        listing.personal_matches = listing.count
        if not page.rows and direction == "first":
            listing.not_found = f"No customer's email address starts with “{search.text}”."
        return listing
    order = pick_sort(CUSTOMER_SORTS, sort, filtered=bool(status), notices=notices)
    params = {"status": status} if status else {}
    statement = _list("customers", params)
    page = keyset_page(session, statement, order, direction=direction, cursor=cursor, size=size, params=params)
    listing = Listing(page, notices)
    if status:
        listing.count = bounded_count(session, statement, params=params)
        if not page.rows and direction == "first":
            listing.not_found = f"No customer has the status {status}."
    return listing


def _customers_by_number(session: Session, statement, number: int, status: str | None) -> Listing:
    """Match a number both ways: a customer number, and the customer who placed that order."""
    listing = Listing(Page([], CUSTOMER_SORTS[DEFAULT_SORT]))
    if number > MAX_ID:
        listing.not_found = f"No customer or order has the number {number}."
        return listing
    owner = session.execute(select(Order.customer_id).where(Order.id == number)).scalar()
    ids = {number} if owner is None else {number, owner}
    if status:
        statement = statement.where(Customer.status == status)
    rows = list(session.execute(statement.where(Customer.id.in_(ids)).order_by(Customer.id)))
    for row in rows:
        reasons = []
        if row.id == owner:
            reasons.append(f"placed order {number}")
        if row.id == number:
            reasons.append(f"customer number {number}")
        listing.matched[row.id] = " and ".join(reasons)
    listing.page.rows = rows
    if not rows:
        listing.not_found = f"No customer or order has the number {number}" + (
            f" with status {status}." if status else ".")
    return listing


def order_listing(session: Session | Connection, *, search: Search, status: str | None = None,
                  sort: str | None = None, customer_id: int | None = None, direction: str = "first",
                  cursor: str | None = None, size: int = PAGE_SIZE) -> Listing:
    """Return one page of orders: one order by number, a customer's orders, a status, or all."""
    status = check_status(status, ORDER_STATUSES)
    notices: list[str] = []
    if search.kind == "number":
        listing = Listing(Page([], ORDER_SORTS[DEFAULT_SORT]))
        if search.number <= MAX_ID:
            listing.page.rows = list(session.execute(select(*ORDER_COLUMNS).where(Order.id == search.number)))
        if not listing.page.rows:
            listing.not_found = f"No order with the number {search.number}."
        return _with_customers(session, listing)
    if search.kind == "prefix":
        listing = Listing(Page([], ORDER_SORTS[DEFAULT_SORT]))
        listing.not_found = ("Find orders by their number or by the customer's full email address. To search "
                             "by the start of an email address, use the customer list.")
        return listing
    if search.kind == "email":
        customer_id = session.execute(_CUSTOMER_ID_BY_EMAIL, {"email": search.text}).scalar()
        if customer_id is None:
            listing = Listing(Page([], ORDER_SORTS[DEFAULT_SORT]))
            listing.not_found = f"No customer with the email address {search.text}."
            return listing
    params = {}
    if customer_id is not None:
        params["customer_id"] = customer_id
    if status:
        params["status"] = status
    statement = _list("orders", params)
    order = pick_sort(ORDER_SORTS, sort, filtered=bool(status) or customer_id is not None, notices=notices)
    page = keyset_page(session, statement, order, direction=direction, cursor=cursor, size=size, params=params)
    listing = Listing(page, notices, personal_matches=(1, False) if search.kind == "email" else None)
    if status or customer_id is not None:
        listing.count = bounded_count(session, statement, params=params)
        if not page.rows and direction == "first":
            listing.not_found = "No orders match" + (f" the status {status}" if status else "") + (
                " for this customer." if customer_id is not None else ".")
    return _with_customers(session, listing)


def _with_customers(session: Session | Connection, listing: Listing) -> Listing:
    """Fetch the page's customers in one small query: no join carried through the sort."""
    ids = {row.customer_id for row in listing.page.rows}
    if ids:
        listing.customers = dict(session.execute(_CUSTOMER_EMAILS, {"ids": sorted(ids)}).all())
    return listing
