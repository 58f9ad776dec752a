from datetime import timedelta

import pytest

from admin_tasks.shop_schema import OutboxEmail
from console.db import utcnow
from console.tasks.runner import TaskError
from tests.factories import OrderFactory, PaymentFactory, ShipmentFactory


def _stuck_order(payment_status="captured", **fields):
    order = OrderFactory(stuck=True, **fields)
    PaymentFactory(order_id=order.id, amount_cents=order.total_cents, status=payment_status)
    ShipmentFactory(order_id=order.id)
    return order


def test_fix_stuck_order_sends_the_order_back_to_fulfilment(run_task, target_row, outbox):
    order = _stuck_order()
    stuck_since = order.status_changed_at

    run = run_task("fix_stuck_order", order_id=order.id)

    assert run.status == "succeeded", run.error
    assert run.result.startswith(f"Sent order {order.id} back to fulfilment after 3 days")
    row = target_row("orders", id=order.id)
    assert row["status"] == "paid"
    assert row["status_changed_at"] > stuck_since + timedelta(days=2)
    assert outbox(order_id=order.id) == []


def test_fix_stuck_order_refuses_an_order_not_in_processing(run_task, target_row):
    for status in ("paid", "shipped", "cancelled"):
        order = OrderFactory(status=status, status_changed_at=utcnow() - timedelta(days=5))

        run = run_task("fix_stuck_order", order_id=order.id)

        assert (run.status, run.error) == ("refused", f"order {order.id} is not in processing (status: {status})")
        assert target_row("orders", id=order.id)["status"] == status


def test_fix_stuck_order_refuses_an_order_in_processing_for_two_days_or_less(run_task, target_row):
    order = _stuck_order(status_changed_at=utcnow() - timedelta(days=1, hours=3))

    run = run_task("fix_stuck_order", order_id=order.id)

    assert run.status == "refused"
    assert run.error.startswith(f"order {order.id} has been in processing for only 1 day 3 h")
    assert run.error.endswith("it counts as stuck after 2 days")
    assert target_row("orders", id=order.id)["status"] == "processing"


def test_fix_stuck_order_refuses_when_the_payment_is_not_captured(run_task, target_row):
    for payment_status in ("authorized", "failed", "voided"):
        order = _stuck_order(payment_status=payment_status)

        run = run_task("fix_stuck_order", order_id=order.id)

        assert (run.status, run.error) == (
            "refused", f"order {order.id}'s payment is not captured (payment: {payment_status}); escalate to payments")
        assert target_row("orders", id=order.id)["status"] == "processing"


def test_fix_stuck_order_refuses_an_order_without_payment(run_task):
    order = OrderFactory(stuck=True)

    run = run_task("fix_stuck_order", order_id=order.id)

    assert (run.status, run.error) == (
        "refused", f"order {order.id}'s payment is not captured (payment: none); escalate to payments")


def test_fix_stuck_order_refuses_when_the_parcel_already_left(run_task, target_row):
    order = OrderFactory(stuck=True)
    PaymentFactory(order_id=order.id, status="captured")
    ShipmentFactory(order_id=order.id, status="shipped", tracking_number="JJD1")

    run = run_task("fix_stuck_order", order_id=order.id)

    assert (run.status, run.error) == ("refused", f"order {order.id} has a shipment that already left the warehouse "
                                                  f"(status: shipped); escalate to fulfilment")
    assert target_row("orders", id=order.id)["status"] == "processing"


def test_fix_stuck_order_refuses_an_unknown_order(run_task):
    run = run_task("fix_stuck_order", order_id=8999999)

    assert (run.status, run.error) == ("refused", "order 8999999 not found")


def test_fix_stuck_order_preview_shows_the_status_change_and_writes_nothing(preview_task, target_row, count_rows):
    order = _stuck_order()
    emails = count_rows(OutboxEmail)

    shown = preview_task("fix_stuck_order", order_id=order.id)

    [change] = shown.changes
    assert (change["table"], change["before"]["status"], change["after"]["status"]) == ("orders", "processing", "paid")
    assert shown.effects == []
    assert target_row("orders", id=order.id)["status"] == "processing"
    assert count_rows(OutboxEmail) == emails


def test_fix_stuck_order_cannot_be_undone(run_task, undo):
    run = run_task("fix_stuck_order", order_id=_stuck_order().id)

    with pytest.raises(TaskError) as refused:
        undo(run)

    assert "cannot be undone" in refused.value.message


def test_fix_stuck_order_on_the_demo_shop(demo_shop, run_task, target_row):
    assert run_task("fix_stuck_order", order_id=1001).error == "order 1001 is not in processing (status: paid)"

    assert run_task("fix_stuck_order", order_id=1003).status == "succeeded"
    assert target_row("orders", id=1003)["status"] == "paid"
