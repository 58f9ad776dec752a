"""The pages' searches as a user may run them: who may match part of a personal value, and the audit of
what was found, are console.product.searches' (the records API asks the same rule)."""
from __future__ import annotations

from sqlalchemy.engine import Connection

from console.lookup.listing import Listing, LookupInputError, search
from console.lookup.paging import PAGE_SIZE
from console.product.queries import QueryInputError
from console.product.schema import ReflectedRecord
from console.product.searches import after_search, may_search_partially


def search_for(conn: Connection, reflected: ReflectedRecord, user, q: str, *, direction: str = "first",
               cursor: str | None = None, size: int = PAGE_SIZE, exact_found_nothing: bool = False) -> Listing:
    """One page of the search `user` may run, audited when it shows personal data (`exact_found_nothing`:
    listing.search's).

    LookupInputError (403, naming q) when the role's search left out partial steps and found nothing;
    AuditUnavailable when the search cannot be recorded (nothing is shown).
    """
    partial = may_search_partially(user)
    found = search(conn, reflected, q, direction=direction, cursor=cursor, size=size, partial=partial,
                   exact_found_nothing=exact_found_nothing)
    _judged(user, reflected, q, found.found, partial=partial, more=found.page.has_next,
            first=direction == "first")
    return found


def landed(user, reflected: ReflectedRecord, q: str, phase, row) -> None:
    """Landing on a record by an exact key: audited as the same search's page would be."""
    _judged(user, reflected, q, [(phase, row)], partial=may_search_partially(user), more=False, first=True)


def _judged(user, reflected, q: str, shown: list, **kw) -> None:
    try:
        after_search(user, reflected, q, shown, **kw)
    except QueryInputError as exc:
        raise LookupInputError(exc.field, exc.message, exc.status) from None
