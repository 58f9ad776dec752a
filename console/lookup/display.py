"""How lookup pages show values: money, status badges, and personal data masked or not (times: console.formatting)."""
from __future__ import annotations

from markupsafe import Markup, escape

from console.formatting import display_zone, local_time
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


# The list pages' rows are built here, not in the template. Printed through Jinja, every cell of every row
# cost an escape, an attribute lookup or a helper call, and the rows were most of a list page's cost (an
# orders page fell from 12,400 to 7,000 Python calls). Text from the database is escaped here; the helpers'
# Markup (badges, times) is not escaped twice; ids are integers. Lists never reveal personal data.

def customer_rows(listing, customers_url: str) -> Markup:
    """The customers list's <tr>s; a Matched cell when the search matched numbers (listing.matched)."""
    matched, zone = listing.matched, display_zone()
    rows = []
    for c in listing.page.rows:
        link = f'{customers_url}{c.id:d}'
        extra = f"<td>{escape(matched.get(c.id, ''))}</td>" if matched else ""
        rows.append(f'<tr><td><a href="{link}">{c.id:d}</a></td>'
                    f'<td class="masked"><a href="{link}">{escape(MASKED.email(c.email))}</a></td>'
                    f'<td class="masked">{escape(MASKED.name(c.name))}</td><td>{status_badge(c.status)}</td>'
                    f'<td>{"yes" if c.email_confirmed else "no"}</td><td>{escape(c.failed_login_count)}</td>'
                    f'<td>{local_time(c.created_at, zone=zone)}</td>{extra}</tr>')
    return Markup("\n".join(rows))


def order_rows(listing, orders_url: str, customers_url: str) -> Markup:
    """The orders list's <tr>s, each customer shown by their masked email (listing.customers)."""
    customers, zone = listing.customers, display_zone()
    rows = []
    for o in listing.page.rows:
        email = escape(MASKED.email(customers.get(o.customer_id)) or o.customer_id)
        refunded = escape(money(o.refunded_cents, o.currency)) if o.refunded_cents else ""
        rows.append(f'<tr><td><a href="{orders_url}{o.id:d}">{o.id:d}</a></td>'
                    f'<td class="masked"><a href="{customers_url}{o.customer_id:d}">{email}</a></td>'
                    f'<td>{status_badge(o.status)}</td>'
                    f'<td class="text-right">{escape(money(o.total_cents, o.currency))}</td>'
                    f'<td class="text-right">{refunded}</td>'
                    f'<td>{local_time(o.created_at, zone=zone)}</td>'
                    f'<td>{local_time(o.status_changed_at, zone=zone)}</td></tr>')
    return Markup("\n".join(rows))
