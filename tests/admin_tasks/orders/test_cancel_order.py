from admin_tasks.shop_schema import OutboxEmail
from tests.admin_tasks.conftest import change_to, changes_of
from tests.factories import OrderFactory, PaymentFactory


def test_cancel_order_stops_a_paid_order_and_leaves_its_captured_payment_for_a_refund(desk, target_db):
    order = OrderFactory(status="paid", total_cents=5000)
    payment = PaymentFactory(order_id=order.id, amount_cents=5000, status="captured")

    run = desk.run("cancel_order", order_id=order.id)

    assert run.status == "succeeded"
    assert run.result == f"Cancelled order {order.id}; 5000 cents were captured: refund them with refund_order"
    target_db.refresh(order)
    target_db.refresh(payment)
    assert (order.status, payment.status) == ("cancelled", "captured")
    assert [template for _to, template in desk.outbox(order_id=order.id)] == ["order_cancelled"]


def test_cancel_order_voids_an_authorized_payment(desk, target_db):
    order = OrderFactory(status="pending", total_cents=3000)
    payment = PaymentFactory(order_id=order.id, amount_cents=3000, status="authorized")

    run = desk.run("cancel_order", order_id=order.id)

    assert run.result == f"Cancelled order {order.id}; voided the authorized payment of 3000 cents, nothing was charged"
    target_db.refresh(payment)
    assert payment.status == "voided"
    assert [change["after"]["status"] for change in change_to(changes_of(run), "payments")] == ["voided"]


def test_cancel_order_cancels_an_order_at_the_warehouse(desk, target_db):
    order = OrderFactory(stuck=True)

    assert desk.run("cancel_order", order_id=order.id).status == "succeeded"

    target_db.refresh(order)
    assert order.status == "cancelled"


def test_cancel_order_refuses_an_order_that_has_shipped(desk, target_db):
    for status in ("shipped", "delivered"):
        order = OrderFactory(status=status)

        assert desk.refusal("cancel_order", order_id=order.id) == (
            f"order {order.id} has already shipped (status: {status}); treat it as a return")

        target_db.refresh(order)
        assert order.status == status
        assert desk.outbox(order_id=order.id) == []


def test_cancel_order_refuses_cancelled_and_refunded_orders(desk):
    cancelled = OrderFactory(status="cancelled")
    refunded = OrderFactory(status="refunded", refunded_cents=5000)

    assert desk.refusal("cancel_order", order_id=cancelled.id) == f"order {cancelled.id} is already cancelled"
    assert desk.refusal("cancel_order", order_id=refunded.id) == (
        f"order {refunded.id} is refunded; there is nothing left to cancel")


def test_cancel_order_refuses_an_unknown_order(desk):
    assert "order 8999999 not found" in desk.refusal("cancel_order", order_id=8999999)


def test_cancel_order_preview_shows_the_status_change_and_writes_nothing(desk, target_db):
    order = OrderFactory(status="paid")
    payment = PaymentFactory(order_id=order.id, status="authorized")
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("cancel_order", order_id=order.id)

    [order_change] = change_to(shown.changes, "orders")
    assert (order_change["before"]["status"], order_change["after"]["status"]) == ("paid", "cancelled")
    [payment_change] = change_to(shown.changes, "payments")
    assert (payment_change["before"]["status"], payment_change["after"]["status"]) == ("authorized", "voided")
    assert len(shown.effects) == 1
    target_db.refresh(order)
    target_db.refresh(payment)
    assert (order.status, payment.status) == ("paid", "authorized")
    assert desk.count(OutboxEmail) == emails_before


def test_undo_cancel_order_puts_the_order_back_into_fulfilment(desk, target_db):
    order = OrderFactory(status="paid")
    PaymentFactory(order_id=order.id, status="captured")
    run = desk.run("cancel_order", order_id=order.id)

    assert desk.undo(run).status == "succeeded"

    target_db.refresh(order)
    assert order.status == "paid"


def test_undo_cancel_order_is_refused_once_the_order_was_refunded(desk, target_db):
    order = OrderFactory(status="paid", total_cents=5000)
    PaymentFactory(order_id=order.id, amount_cents=5000, status="captured")
    run = desk.run("cancel_order", order_id=order.id)
    desk.run("refund_order", order_id=order.id, amount_cents=1000)

    assert desk.undo_refusal(run)

    target_db.refresh(order)
    assert (order.status, order.refunded_cents) == ("cancelled", 1000)


def test_undo_cancel_order_is_refused_when_it_voided_an_authorization(desk, target_db):
    order = OrderFactory(status="pending")
    payment = PaymentFactory(order_id=order.id, status="authorized")
    run = desk.run("cancel_order", order_id=order.id)

    assert "voided" in desk.undo_refusal(run)

    target_db.refresh(order)
    target_db.refresh(payment)
    assert (order.status, payment.status) == ("cancelled", "voided")
