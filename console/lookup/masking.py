"""Partial masks for personal data: enough to tell rows apart and confirm a match, not to read it.

Masks have a fixed width, so they do not give away a value's length either.
"""
from __future__ import annotations

# The masks live with the product declarations, which name them per column; these names stay for the pages.
from console.product.mask import MASK, email as mask_email, name as mask_name, phone as mask_phone  # noqa: F401
from console.product.mask import postcode as mask_postcode, text as mask_text  # noqa: F401


MASKS = {
    "email": mask_email,
    "name": mask_name,
    "phone": mask_phone,
    "postcode": mask_postcode,
    "text": mask_text,
}


# Characters that reorder the text around them: a name holding U+202E would show the rest of the line reversed.
# Personal data is typed by customers, so they are shown as visible markers, never obeyed.
BIDI_CONTROLS = {code: f"[U+{code:04X}]" for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                                       *range(0x2066, 0x206A))}


def neutral(text: str) -> str:
    """The text with every bidirectional control character shown as a marker such as [U+202E]."""
    return text if text.isascii() else text.translate(BIDI_CONTROLS)


def shown(value, kind: str, revealed: bool) -> str:
    """Return the value as the page may show it: whole when revealed, masked otherwise; bidi controls inert."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():  # neutral(), inlined: the lists call this for every cell of every row
        text = text.translate(BIDI_CONTROLS)
    return text if revealed else MASKS[kind](text)


# The shop's columns that hold personal data, and the mask each gets. The lookup pages, the run pages and
# the audit trail all mask by this one table. A task parameter named like one of these columns (a new
# address line, a recipient's name) carries the same kind of value, so it gets the same mask.
PERSONAL_COLUMNS = {
    "customers": {"email": "email", "name": "name", "phone": "phone"},
    "shipments": {"recipient_name": "name", "line1": "text", "line2": "text", "postcode": "postcode"},
    "email_outbox": {"to_address": "email"},
}
_KIND_BY_NAME = {column: kind for columns in PERSONAL_COLUMNS.values() for column, kind in columns.items()}


def column_kind(table: str | None, column: str) -> str | None:
    """The mask for a column of the shop, or None when it holds nothing personal."""
    return PERSONAL_COLUMNS.get(table or "", {}).get(column)


def field_kind(name: str) -> str | None:
    """The mask for a value named like a personal column (`email`, `new_email`, `line1`), or None."""
    if not isinstance(name, str):
        return None
    return _KIND_BY_NAME.get(name) or ("email" if name.endswith("email") else None)
