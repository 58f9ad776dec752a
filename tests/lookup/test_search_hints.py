"""The search box says what the role's search runs: a role that may not match part of a personal value is
not told that its search finds one by a part."""
from __future__ import annotations

import html
import re

import pytest

from console.permissions import ROLE_PERMISSIONS

EVERY_STEP = ("Number, email, name, phone, or the start of email",
              "Exact matches on number, email come first, then any email starting with what you typed, then any email "
              "or name or phone that holds it (at least three letters or digits in a row).")
WHOLE_VALUES = ("Number, email", "Finds exact matches on number, email.")
# What each role's search of customers runs: every step, or only whole values (no part of a personal value).
CUSTOMER_HINTS = {"agent": EVERY_STEP, "lead": EVERY_STEP, "developer": EVERY_STEP, "admin": EVERY_STEP,
                  "product_owner": WHOLE_VALUES}
SHIPMENT_PARTS = {"agent": "postcode or tracking number", "lead": "postcode or tracking number",
                  "developer": "postcode or tracking number", "admin": "postcode or tracking number",
                  "product_owner": "tracking number"}


def _hints(page: str) -> tuple[str, str]:
    placeholder = re.search(r'id="record-search"[^>]*placeholder="([^"]*)"', page, re.S).group(1)
    help_text = re.search(r'<p class="small text-muted">([^<]*)</p>', page).group(1)
    return html.unescape(placeholder), html.unescape(help_text)


def test_every_role_is_named_here():
    assert set(CUSTOMER_HINTS) == set(SHIPMENT_PARTS) == set(ROLE_PERMISSIONS)


@pytest.mark.parametrize("role", sorted(CUSTOMER_HINTS))
def test_the_customer_search_hint_says_what_the_roles_search_runs(client, login_as, alice, role):
    login_as(role)
    page = client.get("/admin/records/customers/").get_data(as_text=True)
    assert _hints(page) == CUSTOMER_HINTS[role]
    # The search does what the hint says: a part of her email and name finds Alice only where the hint offers it.
    by_part = client.get("/admin/records/customers/?q=lookup")
    if CUSTOMER_HINTS[role] is EVERY_STEP:
        assert by_part.status_code == 200
        assert f'href="/admin/records/customers/{alice[0].id}"' in by_part.get_data(as_text=True)
    else:
        assert by_part.status_code == 403


@pytest.mark.parametrize("role", sorted(SHIPMENT_PARTS))
def test_a_part_of_a_value_that_is_not_personal_stays_in_every_roles_hint(client, login_as, alice, role):
    login_as(role)
    _placeholder, help_text = _hints(client.get("/admin/records/shipments/").get_data(as_text=True))
    assert help_text == (f"Exact matches on number come first, then any {SHIPMENT_PARTS[role]} that holds it "
                         "(at least three letters or digits in a row).")
