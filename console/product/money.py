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
    # Integer arithmetic, not Decimal: lists format two amounts a row, and this makes no call but one.
    if cents.__class__ is not int:
        cents = int(cents)
    digits = MINOR_DIGITS[currency] if currency in MINOR_DIGITS else 2
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    if digits:
        unit = 10 ** digits
        text = f"{sign}{cents // unit:,}.{cents % unit:0{digits}d}"
    else:
        text = f"{sign}{cents:,}"
    return f"{currency} {text}" if currency in _NAMED or _names(currency) else text


# Currencies known to be more than blanks: a list formats two amounts a row, and asking strip() each time
# was a call per amount. Bounded: currencies come from the product's rows.
_NAMED: set[str] = set()


def _names(currency: str) -> bool:
    if not currency.strip():
        return False
    if len(_NAMED) < 1000:
        _NAMED.add(currency)
    return True


def money_json(cents: int | None, currency: str) -> dict | None:
    """The API's form of an amount: its minor units, its currency and how it reads."""
    if cents is None:
        return None
    return {"cents": int(cents), "currency": currency or None, "text": format_money(cents, currency)}


# What a person types for an amount: digits with an optional decimal point, thousands optionally grouped by
# commas as format_money shows them ("1,250.00"), optionally with the currency's code before or after.
_AMOUNT = re.compile(r"(?P<sign>[-+]?)\s*(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<fraction>[0-9]*))?")
MAX_AMOUNT_TEXT = 40


def parse_money(text: str, currency: str) -> int:
    """'250.5', 'EUR 250.50' or '1,250' in `currency`'s major units -> minor units (25050, 125000 for EUR).

    ValueError says what is wrong in words that follow the field's name: "may have at most 2 decimals in EUR",
    "cannot be negative", "is not an amount in EUR; write it like 250.00".
    """
    digits = minor_digits(currency)
    example = f"{Decimal(25000).scaleb(-digits):.{digits}f}"
    amount = str(text).strip()
    if len(amount) > MAX_AMOUNT_TEXT:
        raise ValueError("is too large")
    if amount[:3].upper() == currency:
        amount = amount[3:].strip()
    elif amount[-3:].upper() == currency:
        amount = amount[:-3].strip()
    match = _AMOUNT.fullmatch(amount)
    if match is None or not (match["whole"] or match["fraction"]):
        raise ValueError(f"is not an amount in {currency}; write it like {example}")
    if match["sign"] == "-":
        raise ValueError("cannot be negative")
    fraction = match["fraction"] or ""
    if len(fraction) > digits:
        if digits == 0:
            raise ValueError(f"takes whole {currency}: {currency} has no decimals")
        raise ValueError(f"may have at most {digits} decimal{'s' if digits > 1 else ''} in {currency}")
    whole = int((match["whole"] or "0").replace(",", ""))
    return whole * 10**digits + int(fraction.ljust(digits, "0") or 0)


def units_text(cents: int | None, currency: str) -> str:
    """Minor units as a person would type them back into a form: 25050, 'EUR' -> '250.50' (no grouping)."""
    if cents is None:
        return ""
    digits = minor_digits(currency)
    return f"{Decimal(int(cents)).scaleb(-digits):.{digits}f}"
