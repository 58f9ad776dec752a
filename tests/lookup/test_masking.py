"""Masks keep enough to tell rows apart and confirm a match, and never the whole value."""
from __future__ import annotations

import pytest

from console.lookup.masking import mask_email, mask_name, mask_phone, mask_postcode, mask_text, shown


@pytest.mark.parametrize("email, masked", [
    ("anna.muller.12@example.net", "an•••2@e•••.net"),
    ("bob@example.com", "b•••@e•••.com"),
    ("al@x.io", "a•••@x•••.io"),
    ("", ""),
    (None, ""),
])
def test_email_masks(email, masked):
    assert mask_email(email) == masked


def test_masks_have_a_fixed_width_and_hide_the_value():
    short, long = mask_email("abcde@example.com"), mask_email("abcdefghijklmnop@example.com")
    assert len(short) == len(long)
    assert "example" not in long and "bcdefghijklmno" not in long


def test_name_phone_postcode_and_text_masks():
    assert mask_name("Anna Maria Muller") == "A••• M••• M•••"
    assert mask_phone("+49 151 2345678") == "•••78"
    assert mask_postcode("10115") == "10•••"
    assert mask_text("Lindenstr. 12") == "L•••"


def test_shown_is_whole_only_when_revealed():
    assert shown("alice@example.com", "email", True) == "alice@example.com"
    assert shown("alice@example.com", "email", False) == "al•••e@e•••.com"
    assert shown(None, "name", False) == ""


def test_bidi_controls_are_shown_as_markers_revealed_or_masked():
    from console.lookup.masking import shown

    assert shown("Anna \u202eevil", "name", True) == "Anna [U+202E]evil"
    assert shown("\u2067Anna", "name", False) == "[•••"  # masked after the marker took the control's place
    assert shown("Zoë Brontë", "name", True) == "Zoë Brontë"  # other non-ASCII text is left alone


def test_the_shops_outbox_recipient_is_personal_under_its_real_table_name():
    from admin_tasks.shop.schema import OutboxEmail
    from console.lookup.masking import column_kind

    assert column_kind(OutboxEmail.__tablename__, "to_address") == "email"
