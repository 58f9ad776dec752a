"""How lookup pages show values: money, status badges, and personal data masked or not (times: console.formatting)."""
from __future__ import annotations

from markupsafe import Markup, escape

from console.formatting import local_time
from console.lookup import masking

STATUS_COLOURS = {
    "active": "success", "locked": "danger", "disabled": "secondary", "anonymized": "dark", "pending": "warning",
    "paid": "info", "processing": "primary", "shipped": "info", "delivered": "success", "cancelled": "secondary",
    "refunded": "dark",
}


def money(cents: int | None, currency: str = "EUR") -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d} {currency}"


_BADGES = {status: Markup(f'<span class="badge badge-{colour}">{status}</span>')
           for status, colour in STATUS_COLOURS.items()}


def status_badge(status: str) -> Markup:
    # A dict of ready-made badges, not a Jinja macro: it runs for every row of every list.
    badge = _BADGES.get(status)
    if badge is None:
        badge = Markup('<span class="badge badge-light">{}</span>').format(escape(status))
    return badge


class PersonalData:
    """Show personal data whole when this record is revealed, masked otherwise."""

    def __init__(self, revealed: bool = False):
        self.revealed = revealed

    def email(self, value) -> str:
        return masking.shown(value, "email", self.revealed)

    def name(self, value) -> str:
        return masking.shown(value, "name", self.revealed)

    def phone(self, value) -> str:
        return masking.shown(value, "phone", self.revealed)

    def postcode(self, value) -> str:
        return masking.shown(value, "postcode", self.revealed)

    def text(self, value) -> str:
        return masking.shown(value, "text", self.revealed)


MASKED = PersonalData(False)
HELPERS = {"money": money, "status_badge": status_badge}


# The list pages' cells, worked out here rather than in the template: in Jinja every attribute and
# helper call of a row goes through the template runtime, and the rows were most of a list page's cost.
# Each value is text (escaped when printed) or Markup the helper built; lists never reveal personal data.

def customer_cells(listing) -> list[tuple]:
    """(id, email, name, status badge, email confirmed, failed logins, customer since, matched) per row."""
    matched = listing.matched
    return [(c.id, MASKED.email(c.email), MASKED.name(c.name), status_badge(c.status),
             "yes" if c.email_confirmed else "no", c.failed_login_count, local_time(c.created_at),
             matched.get(c.id, "") if matched else "") for c in listing.page.rows]


def order_cells(listing) -> list[tuple]:
    """(id, customer id, customer email, status badge, total, refunded, placed, status since) per row."""
    customers = listing.customers
    return [(o.id, o.customer_id, MASKED.email(customers.get(o.customer_id)) or o.customer_id, status_badge(o.status),
             money(o.total_cents, o.currency), money(o.refunded_cents, o.currency) if o.refunded_cents else "",
             local_time(o.created_at), local_time(o.status_changed_at)) for o in listing.page.rows]
