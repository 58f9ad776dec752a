"""Money: amounts are stored in the currency's minor units (cents) and shown in its major units.

One formatter for the pages and the API: 25000 cents of EUR is `EUR 250.00`, and in JSON
`{"cents": 25000, "currency": "EUR", "text": "EUR 250.00"}`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 currencies whose minor unit is not a hundredth.
MINOR_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
                     "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Money:
    """A money column: its currency is fixed (`currency="EUR"`) or read from another column of the row."""

    currency: str | None = None
    currency_column: str | None = None

    def currency_of(self, row) -> str:
        """The row's currency code ('' when the currency column is empty)."""
        if self.currency:
            return self.currency
        return str(row[self.currency_column] or "").strip().upper()


def minor_digits(currency: str) -> int:
    return MINOR_DIGITS.get(currency, 2)


def format_money(cents: int | None, currency: str) -> str:
    """25000, 'EUR' -> 'EUR 250.00'; thousands grouped, the sign before the number."""
    if cents is None:
        return ""
    digits = minor_digits(currency)
    amount = Decimal(int(cents)).scaleb(-digits)
    text = f"{amount:,.{digits}f}"
    return f"{currency} {text}".strip()


def money_json(cents: int | None, currency: str) -> dict | None:
    """The API's form of an amount: its minor units, its currency and how it reads."""
    if cents is None:
        return None
    return {"cents": int(cents), "currency": currency or None, "text": format_money(cents, currency)}
