from admin_tasks.shop_schema import OutboxEmail
from tests.factories import OrderFactory, PaymentFactory


def _statuses(target_row, order) -> tuple:
    return target_row("orders", id=order.id)["status"], target_row("payments", order_id=order.id)["status"]


def test_cancel_order_stops_a_paid_order_and_leaves_its_captured_payment_for_a_refund(run_task, target_row, outbox):
    order = OrderFactory(status="paid", total_cents=5000)
    PaymentFactory(order_id=order.id, amount_cents=5000, status="captured")

    run = run_task("cancel_order", order_id=order.id)

    assert run.status == "succeeded", run.error
    assert run.result == f"Cancelled order {order.id}; EUR 50.00 was captured: refund it with “Refund an order”"
    assert _statuses(target_row, order) == ("cancelled", "captured")
    assert [template for _to, template in outbox(order_id=order.id)] == ["order_cancelled"]


def test_cancel_order_voids_an_authorized_payment(run_task, target_row):
    order = OrderFactory(status="pending", total_cents=3000)
    PaymentFactory(order_id=order.id, amount_cents=3000, status="authorized")

    run = run_task("cancel_order", order_id=order.id)

    assert run.result == (
        f"Cancelled order {order.id}; voided the authorized payment of EUR 30.00, nothing was charged")
    assert _statuses(target_row, order) == ("cancelled", "voided")


def test_cancel_order_cancels_an_order_at_the_warehouse(run_task, target_row):
    order = OrderFactory(stuck=True)

    assert run_task("cancel_order", order_id=order.id).status == "succeeded"

    assert target_row("orders", id=order.id)["status"] == "cancelled"


def test_cancel_order_refuses_an_order_that_has_shipped(run_task, target_row, outbox):
    for status in ("shipped", "delivered"):
        order = OrderFactory(status=status)

        run = run_task("cancel_order", order_id=order.id)

        assert (run.status, run.error) == (
            "refused", f"order {order.id} has already shipped (status: {status}); treat it as a return")
        assert target_row("orders", id=order.id)["status"] == status
        assert outbox(order_id=order.id) == []


def test_cancel_order_refuses_cancelled_and_refunded_orders(run_task):
    cancelled = OrderFactory(status="cancelled")
    refunded = OrderFactory(status="refunded", refunded_cents=5000)

    assert run_task("cancel_order", order_id=cancelled.id).error == f"order {cancelled.id} is already cancelled"
    assert run_task("cancel_order", order_id=refunded.id).error == (
        f"order {refunded.id} is refunded; there is nothing left to cancel")


def test_cancel_order_refuses_an_unknown_order(run_task):
    run = run_task("cancel_order", order_id=8999999)

    assert (run.status, run.error) == ("refused", "order 8999999 not found")


def test_cancel_order_preview_shows_the_status_change_and_writes_nothing(preview_task, target_row, count_rows):
    order = OrderFactory(status="paid")
    PaymentFactory(order_id=order.id, status="authorized")
    emails = count_rows(OutboxEmail)

    shown = preview_task("cancel_order", order_id=order.id)

    order_change, payment_change = shown.changes
    assert (order_change["table"], order_change["before"]["status"], order_change["after"]["status"]) == (
        "orders", "paid", "cancelled")
    assert (payment_change["table"], payment_change["before"]["status"], payment_change["after"]["status"]) == (
        "payments", "authorized", "voided")
    assert [line.split(" to ")[0] for line in shown.effects] == ["email 'order_cancelled'"]
    assert _statuses(target_row, order) == ("paid", "authorized")
    assert count_rows(OutboxEmail) == emails


def test_undo_cancel_order_puts_the_order_back_into_fulfilment(run_task, undo, target_row):
    order = OrderFactory(status="paid")
    PaymentFactory(order_id=order.id, status="captured")
    run = run_task("cancel_order", order_id=order.id)

    undone = undo(run)

    assert (undone.status, undone.result) == ("succeeded", f"Order {order.id} is paid again")
    assert _statuses(target_row, order) == ("paid", "captured")


def test_undo_cancel_order_is_refused_once_the_order_was_refunded(run_task, undo, target_row):
    order = OrderFactory(status="paid", total_cents=5000)
    PaymentFactory(order_id=order.id, amount_cents=5000, status="captured")
    run = run_task("cancel_order", order_id=order.id)
    assert run_task("refund_order", order_id=order.id, amount_cents=1000).status == "succeeded"

    undone = undo(run)

    assert (undone.status, undone.error) == (
        "refused", f"order {order.id} changed since run {run.id} (status: cancelled, refunded: 1000 cents)")
    assert target_row("orders", id=order.id)["status"] == "cancelled"


def test_undo_cancel_order_is_refused_when_it_voided_an_authorization(run_task, undo, target_row):
    order = OrderFactory(status="pending")
    PaymentFactory(order_id=order.id, status="authorized")
    run = run_task("cancel_order", order_id=order.id)

    undone = undo(run)

    assert (undone.status, undone.error) == (
        "refused", f"run {run.id} voided the payment authorization of order {order.id}, and a voided authorization "
                   f"cannot be revived; the customer must order again")
    assert _statuses(target_row, order) == ("cancelled", "voided")


def test_cancel_order_on_the_demo_shop(demo_shop, run_task, target_row):
    assert run_task("cancel_order", order_id=1002).error == (
        "order 1002 has already shipped (status: shipped); treat it as a return")

    assert run_task("cancel_order", order_id=1001).result == (
        "Cancelled order 1001; EUR 50.00 was captured: refund it with “Refund an order”")
    assert target_row("orders", id=1001)["status"] == "cancelled"
