"""Partial masks for personal data: enough to tell rows apart and confirm a match, not to read it.

Masks have a fixed width, so they do not give away a value's length either. A product package
names one of these for each personal column: `personal={"email": mask.email}`.
"""
from __future__ import annotations

MASK = "•••"


def text(value: str | None) -> str:
    """Any other personal text (a street, a second address line): its first character only."""
    if not value:
        return ""
    return f"{value[:1]}{MASK}"


def email(value: str | None) -> str:
    """'anna.muller.12@example.net' -> 'an•••2@e•••.net'."""
    if not value:
        return ""
    local, _, domain = value.rpartition("@")
    if not local:
        return text(value)
    # Slices, not len(): masks run for every row of every list, and a slice is no call.
    shown = local[:2] if local[3:] else local[:1]
    tail = local[-1] if local[4:] else ""
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}{MASK}{dot}{tld}" if host else f"{domain[:1]}{MASK}"
    return f"{shown}{MASK}{tail}@{masked_domain}"


def name(value: str | None) -> str:
    """'Anna Muller' -> 'A••• M•••'."""
    if not value:
        return ""
    return " ".join([f"{word[:1]}{MASK}" for word in value.split()])


def phone(value: str | None) -> str:
    """'+49 1512345678' -> '•••78': the last two digits, to confirm a number the caller reads out."""
    if not value:
        return ""
    digits = [c for c in value if c.isdigit()]
    return MASK + "".join(digits[-2:])


def postcode(value: str | None) -> str:
    """'10115' -> '10•••': the area, not the street."""
    if not value:
        return ""
    return f"{value[:2]}{MASK}"


def hidden(value: str | None) -> str:
    """Nothing of the value at all (a date of birth, an IP address)."""
    return MASK if value else ""


# Every mask by its name: how a declaration's mask is named in messages and in generated packages.
BY_NAME = {"email": email, "name": name, "phone": phone, "postcode": postcode, "text": text, "hidden": hidden}
NAME_OF = {function: key for key, function in BY_NAME.items()}
