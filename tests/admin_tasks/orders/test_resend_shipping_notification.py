from admin_tasks.shop_schema import OutboxEmail
from tests.factories import OrderFactory, ShipmentFactory


def _shipped_order(tracking_number="JJD000390007123456"):
    order = OrderFactory(shipped=True)
    ShipmentFactory(order_id=order.id, status="shipped", carrier="DHL", tracking_number=tracking_number)
    return order


def test_resend_shipping_notification_queues_the_tracking_email(desk, target_db):
    order = _shipped_order()

    run = desk.run("resend_shipping_notification", order_id=order.id)

    assert run.status == "succeeded"
    emails = desk.outbox(order_id=order.id)
    assert [template for _to, template in emails] == ["shipping_notification"]
    assert emails[0][0].endswith("@example.org")
    assert run.result.endswith("(DHL JJD000390007123456)")


def test_resend_shipping_notification_refuses_an_order_that_has_not_shipped(desk):
    for status in ("pending", "paid", "processing"):
        order = OrderFactory(status=status)
        assert desk.refusal("resend_shipping_notification", order_id=order.id) == (
            f"order {order.id} has not shipped yet (status: {status})")
        assert desk.outbox(order_id=order.id) == []


def test_resend_shipping_notification_refuses_an_order_no_longer_on_its_way(desk):
    for status in ("delivered", "cancelled", "refunded"):
        order = OrderFactory(status=status)
        assert desk.refusal("resend_shipping_notification", order_id=order.id) == (
            f"order {order.id} is {status}; the shipping email only helps while it is on its way")


def test_resend_shipping_notification_refuses_a_shipment_without_tracking(desk):
    order = _shipped_order(tracking_number=None)

    assert desk.refusal("resend_shipping_notification", order_id=order.id) == (
        f"order {order.id} has no tracking number yet; ask fulfilment for it")
    assert desk.outbox(order_id=order.id) == []


def test_resend_shipping_notification_refuses_an_unknown_order(desk):
    assert "order 8999999 not found" in desk.refusal("resend_shipping_notification", order_id=8999999)


def test_resend_shipping_notification_preview_lists_the_email_and_sends_nothing(desk):
    order = _shipped_order()
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("resend_shipping_notification", order_id=order.id)

    assert shown.changes == []
    assert len(shown.effects) == 1
    assert desk.count(OutboxEmail) == emails_before
