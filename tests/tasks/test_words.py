"""Pages speak in words, not internals: titles instead of task names, whole sentences, errors as sentences."""
from __future__ import annotations

import html as markup

from tests.tasks.test_views import confirm, form_post, preview_refund, run_id_from
from tests.tasks.test_views_runs import visible_text


def _text(response) -> str:
    return markup.unescape(visible_text(response.get_data(as_text=True)))


def test_the_catalog_shows_titles_and_whole_first_sentences(client, login_as):
    login_as("agent")
    text = _text(client.get("/admin/tasks/"))
    assert "refund_order" not in text and "update_shipping_address" not in text
    assert "Refund part or all of an order to the card it was paid with, and email the customer." in text
    assert ("Replace the whole delivery address of an order that has not shipped yet (pending, paid or processing), "
            "and email the customer about it, because a changed address is a common fraud pattern.") in text


def test_form_errors_are_sentences(client, login_as, demo_shop):
    login_as("agent")
    text = _text(form_post(client, "/admin/tasks/refund_order/", {
        "action": "preview", "order_id": "x", "amount_cents": "-5", "ticket": "", "reason": ""}))
    for sentence in ("Order number must be a whole number", "Amount to refund cannot be negative",
                     "A ticket reference is required", "A reason is required"):
        assert sentence in text


def test_the_run_page_names_the_task_by_its_title(client, login_as, demo_shop):
    login_as("agent")
    run_id = run_id_from(confirm(client, "/admin/tasks/refund_order/", preview_refund(client).get_data(as_text=True)))
    text = _text(client.get(f"/admin/runs/{run_id}"))
    assert "Refund an order" in text and "refund_order" not in text
