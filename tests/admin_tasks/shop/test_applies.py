"""The shop's tasks say when they apply: a record's page and the records API offer only those that do."""
from __future__ import annotations

from console.tasks.registry import task_registry

ORDER_TASKS = {"cancel_order", "fix_stuck_order", "refund_order", "resend_shipping_notification",
               "update_shipping_address"}


def _offered(client, headers, order_id: int) -> dict:
    return client.get(f"/api/v1/records/orders/{order_id}", headers=headers).get_json()["record"]


def test_a_delivered_order_offers_neither_cancelling_nor_fixing_it(client, login_as, demo_records):
    login_as("agent")
    html = client.get("/admin/records/orders/1004").get_data(as_text=True)
    assert "/admin/tasks/refund_order/?order_id=1004" in html
    assert "/admin/tasks/cancel_order/" not in html and "/admin/tasks/fix_stuck_order/" not in html
    assert "Not offered here:" in html and "Cancel an order (the order is delivered; treat it as a return)" in html


def test_the_task_link_of_a_task_that_does_not_apply_is_a_404(client, login_as, demo_records):
    login_as("agent")
    assert client.get("/admin/records/orders/1004/tasks/cancel_order").status_code == 404
    assert client.get("/admin/records/orders/1001/tasks/cancel_order").status_code == 302


def test_the_records_api_lists_what_applies_and_why_the_rest_does_not(client, api_token, demo_records):
    _user, headers = api_token("agent")
    delivered = _offered(client, headers, 1004)
    assert delivered["tasks"] == ["refund_order"]
    assert set(delivered["not_applying"]) == ORDER_TASKS - {"refund_order"}
    assert delivered["not_applying"]["fix_stuck_order"] == "the order is delivered, not in processing"
    stuck = _offered(client, headers, 1003)
    assert {"fix_stuck_order", "cancel_order", "refund_order"} <= set(stuck["tasks"])
    assert "resend_shipping_notification" in stuck["not_applying"]
    assert "resend_shipping_notification" in _offered(client, headers, 1002)["tasks"]


def test_what_the_page_hides_the_task_still_refuses(app, demo_records, run_task):
    """The check only keeps a wrong turn off the page; the task's own refusal stays the rule."""
    registry = task_registry(app)
    delivered = {"status": "delivered", "total_cents": 25000, "refunded_cents": 0}
    for name in ("cancel_order", "fix_stuck_order"):
        assert registry.get(name).not_applying(delivered)
        assert run_task(name, order_id=1004).status == "refused"
    assert not registry.get("cancel_order").not_applying({"status": "paid"})
    assert run_task("cancel_order", order_id=1001).status == "succeeded"


def test_the_shops_tasks_suggest_a_reply_to_the_customer(app):
    registry = task_registry(app)
    refund = registry.get("refund_order").suggested_reply({"order_id": 1004, "amount_cents": 12000}, "")
    assert refund.startswith("We have refunded EUR 120.00 on your order 1004 to the card you paid with.")
    cancelled = registry.get("cancel_order").suggested_reply(
        {"order_id": 1001}, "Cancelled order 1001; voided the authorized payment of 5000 cents, nothing was charged")
    assert "nothing was charged" in cancelled
    assert all(spec.suggested_reply(dict(example), "") for spec in registry for example in spec.examples[:1]
               if spec.module.startswith("admin_tasks.") and spec.reply is not None)
    assert {spec.name for spec in registry if spec.module.startswith("admin_tasks.") and spec.reply is None} == set()


def test_every_shop_task_words_its_preview_as_what_will_happen(app, demo_records, preview_task, run_task):
    for spec in task_registry(app):
        if not spec.module.startswith("admin_tasks.") or not spec.examples:
            continue
        shown = preview_task(spec.name, as_role="admin", **spec.examples[0]).result
        assert " will " in f" {shown.lower()} ", (spec.name, shown)
    assert run_task("refund_order", order_id=1004, amount_cents=3000).result.startswith(
        "Refunded EUR 30.00 on order 1004")  # the run itself says what happened
