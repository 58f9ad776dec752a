"""Fixtures for runbook tests: a folder of runbook files and the starter task names."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

# The starter tasks and their parameters, as the shipped plugins in admin_tasks/ declare them.
STARTER_TASKS = {
    "unlock_account": {"email"},
    "resend_confirmation_email": {"email"},
    "send_password_reset": {"email"},
    "change_email": {"email", "new_email"},
    "update_shipping_address": {"order_id", "recipient_name", "line1", "line2", "city", "postcode", "country"},
    "cancel_order": {"order_id"},
    "resend_shipping_notification": {"order_id"},
    "fix_stuck_order": {"order_id"},
    "refund_order": {"order_id", "amount_cents"},
    "anonymize_customer": {"email"},
}
SHIPPED_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"

GOOD_FRONT = """\
title: Customer cannot log in
category: account
symptoms:
  - customer cannot log in
  - account is locked
tasks:
  - unlock_account
owner: accounts-team
reviewed: 2026-11-01
"""


def runbook_text(front: str = GOOD_FRONT, body: str = "## Check\n\nLook the customer up.\n") -> str:
    return f"---\n{textwrap.dedent(front)}---\n{textwrap.dedent(body)}"


@pytest.fixture
def write_runbook(tmp_path):
    """Write a runbook file into a fresh folder: write_runbook('slug', front=..., body=...) -> Path."""

    def write(slug: str = "cannot-log-in", *, front: str = GOOD_FRONT, body: str = "## Check\n\nLook it up.\n",
              text: str | None = None) -> Path:
        path = tmp_path / f"{slug}.md"
        path.write_text(runbook_text(front, body) if text is None else text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def starter_tasks():
    return {name: set(params) for name, params in STARTER_TASKS.items()}
