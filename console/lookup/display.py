"""How lookup pages show values: money, status badges, and personal data masked or not (times: console.formatting)."""
from __future__ import annotations

from markupsafe import Markup, escape

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
