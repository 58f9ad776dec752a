"""Money in the currency's units (console.product.money): one formatter for pages and the API."""
from __future__ import annotations

import pytest

from console.product.money import format_money, money_json


@pytest.mark.parametrize("cents, currency, text", [
    (25000, "EUR", "EUR 250.00"),
    (-5, "EUR", "EUR -0.05"),
    (123456789, "USD", "USD 1,234,567.89"),
    (-123456, "JPY", "JPY -123,456"),
    (1234567, "KWD", "KWD 1,234.567"),
    (250, "", "2.50"),
    (250, "   ", "2.50"),  # blanks are no currency, however often they come
    (250, "   ", "2.50"),
    (None, "EUR", ""),
    (7, "eur ", "eur  0.07"),  # the caller's text as it is: Money.currency_of tidies a row's code first
])
def test_format_money(cents, currency, text):
    assert format_money(cents, currency) == text


def test_money_json_gives_the_minor_units_the_code_and_the_text():
    assert money_json(25000, "EUR") == {"cents": 25000, "currency": "EUR", "text": "EUR 250.00"}
    assert money_json(250, "") == {"cents": 250, "currency": None, "text": "2.50"}
    assert money_json(None, "EUR") is None
