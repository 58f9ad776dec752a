from admin_tasks.shop_schema import OutboxEmail
from tests.factories import OrderFactory, ShipmentFactory


def _shipped_order(tracking_number="JJD000390007123456"):
    order = OrderFactory(shipped=True)
    ShipmentFactory(order_id=order.id, status="shipped", carrier="DHL", tracking_number=tracking_number)
    return order


def test_resend_shipping_notification_queues_the_tracking_email(run_task, outbox, target_row):
    order = _shipped_order()
    customer = target_row("customers", id=order.customer_id)

    run = run_task("resend_shipping_notification", order_id=order.id)

    assert run.status == "succeeded", run.error
    assert run.result == (f"Queued the shipping email for order {order.id} to {customer['email']} "
                          f"(DHL JJD000390007123456)")
    assert outbox(order_id=order.id) == [(customer["email"], "shipping_notification")]


def test_resend_shipping_notification_refuses_an_order_that_has_not_shipped(run_task, outbox):
    for status in ("pending", "paid", "processing"):
        order = OrderFactory(status=status)

        run = run_task("resend_shipping_notification", order_id=order.id)

        assert (run.status, run.error) == ("refused", f"order {order.id} has not shipped yet (status: {status})")
        assert outbox(order_id=order.id) == []


def test_resend_shipping_notification_refuses_an_order_no_longer_on_its_way(run_task):
    for status in ("delivered", "cancelled", "refunded"):
        order = OrderFactory(status=status)

        run = run_task("resend_shipping_notification", order_id=order.id)

        assert (run.status, run.error) == (
            "refused", f"order {order.id} is {status}; the shipping email only helps while it is on its way")


def test_resend_shipping_notification_refuses_a_shipment_without_tracking(run_task, outbox):
    order = _shipped_order(tracking_number=None)

    run = run_task("resend_shipping_notification", order_id=order.id)

    assert (run.status, run.error) == ("refused", f"order {order.id} has no tracking number yet; ask fulfilment for it")
    assert outbox(order_id=order.id) == []


def test_resend_shipping_notification_refuses_an_unknown_order(run_task):
    run = run_task("resend_shipping_notification", order_id=8999999)

    assert (run.status, run.error) == ("refused", "order 8999999 not found")


def test_resend_shipping_notification_preview_lists_the_email_and_sends_nothing(preview_task, count_rows):
    order = _shipped_order()
    emails = count_rows(OutboxEmail)

    shown = preview_task("resend_shipping_notification", order_id=order.id)

    assert shown.changes == []
    assert [line.split(" to ")[0] for line in shown.effects] == ["email 'shipping_notification'"]
    assert count_rows(OutboxEmail) == emails


def test_resend_shipping_notification_on_the_demo_shop(demo_shop, run_task, outbox):
    assert run_task("resend_shipping_notification", order_id=1001).error == (
        "order 1001 has not shipped yet (status: paid)")

    assert run_task("resend_shipping_notification", order_id=1002).result == (
        "Queued the shipping email for order 1002 to alice@example.com (DHL JJD000390007123456)")
    assert outbox(order_id=1002) == [("alice@example.com", "shipping_notification")]
