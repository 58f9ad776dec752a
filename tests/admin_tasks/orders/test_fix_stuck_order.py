from datetime import timedelta

from admin_tasks.shop_schema import OutboxEmail
from console.db import utcnow
from tests.factories import OrderFactory, PaymentFactory, ShipmentFactory


def _stuck_order(payment_status="captured", **fields):
    order = OrderFactory(stuck=True, **fields)
    PaymentFactory(order_id=order.id, amount_cents=order.total_cents, status=payment_status)
    ShipmentFactory(order_id=order.id)
    return order


def test_fix_stuck_order_sends_the_order_back_to_fulfilment(desk, target_db):
    order = _stuck_order()
    stuck_since = order.status_changed_at

    run = desk.run("fix_stuck_order", order_id=order.id)

    assert run.status == "succeeded"
    assert run.result.startswith(f"Sent order {order.id} back to fulfilment after 3 days")
    target_db.refresh(order)
    assert order.status == "paid"
    assert order.status_changed_at > stuck_since + timedelta(days=2)
    assert desk.outbox(order_id=order.id) == []


def test_fix_stuck_order_refuses_an_order_not_in_processing(desk, target_db):
    for status in ("paid", "shipped", "cancelled"):
        order = OrderFactory(status=status, status_changed_at=utcnow() - timedelta(days=5))
        assert desk.refusal("fix_stuck_order", order_id=order.id) == (
            f"order {order.id} is not in processing (status: {status})")
        target_db.refresh(order)
        assert order.status == status


def test_fix_stuck_order_refuses_an_order_in_processing_for_two_days_or_less(desk, target_db):
    order = _stuck_order(status_changed_at=utcnow() - timedelta(days=1, hours=3))

    message = desk.refusal("fix_stuck_order", order_id=order.id)

    assert message.startswith(f"order {order.id} has been in processing for only 1 day 3 h")
    assert message.endswith("it counts as stuck after 2 days")
    target_db.refresh(order)
    assert order.status == "processing"


def test_fix_stuck_order_refuses_when_the_payment_is_not_captured(desk, target_db):
    for payment_status in ("authorized", "failed", "voided"):
        order = _stuck_order(payment_status=payment_status)
        assert desk.refusal("fix_stuck_order", order_id=order.id) == (
            f"order {order.id}'s payment is not captured (payment: {payment_status}); escalate to payments")
        target_db.refresh(order)
        assert order.status == "processing"


def test_fix_stuck_order_refuses_an_order_without_payment(desk):
    order = OrderFactory(stuck=True)

    assert desk.refusal("fix_stuck_order", order_id=order.id) == (
        f"order {order.id}'s payment is not captured (payment: none); escalate to payments")


def test_fix_stuck_order_refuses_when_the_parcel_already_left(desk, target_db):
    order = OrderFactory(stuck=True)
    PaymentFactory(order_id=order.id, status="captured")
    ShipmentFactory(order_id=order.id, status="shipped", tracking_number="JJD1")

    assert desk.refusal("fix_stuck_order", order_id=order.id) == (
        f"order {order.id} has a shipment that already left the warehouse (status: shipped); escalate to fulfilment")
    target_db.refresh(order)
    assert order.status == "processing"


def test_fix_stuck_order_refuses_an_unknown_order(desk):
    assert "order 8999999 not found" in desk.refusal("fix_stuck_order", order_id=8999999)


def test_fix_stuck_order_preview_shows_the_status_change_and_writes_nothing(desk, target_db):
    order = _stuck_order()
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("fix_stuck_order", order_id=order.id)

    [change] = shown.changes
    assert (change["table"], change["before"]["status"], change["after"]["status"]) == (
        "orders", "processing", "paid")
    assert shown.effects == []
    target_db.refresh(order)
    assert order.status == "processing"
    assert desk.count(OutboxEmail) == emails_before


def test_fix_stuck_order_is_not_undoable(desk):
    order = _stuck_order()
    run = desk.run("fix_stuck_order", order_id=order.id)

    assert desk.undo_refusal(run)
