from admin_tasks.shop_schema import OutboxEmail
from tests.admin_tasks.conftest import change_to, changes_of
from tests.factories import OrderFactory, ShipmentFactory

NEW_ADDRESS = {"recipient_name": "Alice Example", "line1": "Kastanienallee 5", "line2": "",
               "city": "Hamburg", "postcode": "20095", "country": "de"}


def _order_with_shipment(status="paid", shipment_status="pending"):
    order = OrderFactory(status=status)
    shipment = ShipmentFactory(order_id=order.id, status=shipment_status, recipient_name="Alice Example",
                               line1="Lindenstr. 12", line2="Hinterhaus", city="Berlin", postcode="10115")
    return order, shipment


def _address(shipment) -> tuple:
    return (shipment.recipient_name, shipment.line1, shipment.line2, shipment.city, shipment.postcode,
            shipment.country)


def test_update_shipping_address_replaces_the_address_and_tells_the_customer(desk, target_db):
    order, shipment = _order_with_shipment()

    run = desk.run("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    assert run.status == "succeeded"
    assert run.result == f"Order {order.id} now ships to Alice Example, Kastanienallee 5, 20095 Hamburg, DE"
    target_db.refresh(shipment)
    assert _address(shipment) == ("Alice Example", "Kastanienallee 5", None, "Hamburg", "20095", "DE")
    assert [template for _to, template in desk.outbox(order_id=order.id)] == ["shipping_address_changed"]
    [change] = change_to(changes_of(run), "shipments")
    assert set(change["after"]) >= {"line1", "line2", "city", "postcode"}
    assert "recipient_name" not in change["after"]


def test_update_shipping_address_works_while_the_order_is_at_the_warehouse(desk, target_db):
    order, shipment = _order_with_shipment(status="processing")

    assert desk.run("update_shipping_address", order_id=order.id, **NEW_ADDRESS).status == "succeeded"

    target_db.refresh(shipment)
    assert shipment.city == "Hamburg"


def test_update_shipping_address_refuses_an_order_that_has_shipped(desk, target_db):
    for status in ("shipped", "delivered"):
        order, shipment = _order_with_shipment(status=status, shipment_status=status)

        assert desk.refusal("update_shipping_address", order_id=order.id, **NEW_ADDRESS) == (
            f"order {order.id} has already shipped (status: {status}); only the carrier can redirect it")

        target_db.refresh(shipment)
        assert shipment.city == "Berlin"
        assert desk.outbox(order_id=order.id) == []


def test_update_shipping_address_refuses_an_order_whose_parcel_left_early(desk):
    order, _shipment = _order_with_shipment(status="processing", shipment_status="shipped")

    assert desk.refusal("update_shipping_address", order_id=order.id, **NEW_ADDRESS) == (
        f"order {order.id} has already shipped (shipment: shipped)")


def test_update_shipping_address_refuses_cancelled_and_refunded_orders(desk):
    for status in ("cancelled", "refunded"):
        order, _shipment = _order_with_shipment(status=status)
        assert desk.refusal("update_shipping_address", order_id=order.id, **NEW_ADDRESS) == (
            f"order {order.id} is {status}; it will not ship")


def test_update_shipping_address_refuses_an_order_without_a_shipment_yet(desk):
    order = OrderFactory(status="pending")

    assert desk.refusal("update_shipping_address", order_id=order.id, **NEW_ADDRESS) == (
        f"order {order.id} has no shipment yet (status: pending); its address can be changed once it is paid")


def test_update_shipping_address_refuses_the_address_it_already_has(desk):
    order, _shipment = _order_with_shipment()

    same = {"recipient_name": " Alice Example", "line1": "Lindenstr. 12", "line2": "Hinterhaus", "city": "Berlin",
            "postcode": "10115", "country": "DE"}
    assert desk.refusal("update_shipping_address", order_id=order.id, **same) == (
        f"order {order.id} already ships to this address; nothing to change")


def test_update_shipping_address_rejects_a_blank_field(desk, target_db):
    order, shipment = _order_with_shipment()

    fields = desk.invalid_fields("update_shipping_address", order_id=order.id, **{**NEW_ADDRESS, "city": "   "})

    assert set(fields) == {"city"}
    target_db.refresh(shipment)
    assert shipment.city == "Berlin"


def test_update_shipping_address_rejects_a_country_that_is_not_a_two_letter_code(desk):
    order, _shipment = _order_with_shipment()

    fields = desk.invalid_fields("update_shipping_address", order_id=order.id, **{**NEW_ADDRESS, "country": "DEU"})

    assert set(fields) == {"country"}


def test_update_shipping_address_refuses_an_unknown_order(desk):
    assert "order 8999999 not found" in desk.refusal("update_shipping_address", order_id=8999999, **NEW_ADDRESS)


def test_update_shipping_address_preview_shows_old_and_new_address_and_writes_nothing(desk, target_db):
    order, shipment = _order_with_shipment()
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    [change] = shown.changes
    assert change["table"] == "shipments"
    assert {key: change["before"][key] for key in ("line1", "line2", "city")} == {
        "line1": "Lindenstr. 12", "line2": "Hinterhaus", "city": "Berlin"}
    assert {key: change["after"][key] for key in ("line1", "line2", "city")} == {
        "line1": "Kastanienallee 5", "line2": None, "city": "Hamburg"}
    assert len(shown.effects) == 1
    target_db.refresh(shipment)
    assert _address(shipment) == ("Alice Example", "Lindenstr. 12", "Hinterhaus", "Berlin", "10115", "DE")
    assert desk.count(OutboxEmail) == emails_before


def test_undo_update_shipping_address_puts_the_old_address_back(desk, target_db):
    order, shipment = _order_with_shipment()
    run = desk.run("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    assert desk.undo(run).status == "succeeded"

    target_db.refresh(shipment)
    assert _address(shipment) == ("Alice Example", "Lindenstr. 12", "Hinterhaus", "Berlin", "10115", "DE")


def test_undo_update_shipping_address_is_refused_once_the_parcel_has_shipped(desk, target_db):
    order, shipment = _order_with_shipment()
    run = desk.run("update_shipping_address", order_id=order.id, **NEW_ADDRESS)
    shipment.status = "shipped"
    target_db.flush()

    assert "shipped" in desk.undo_refusal(run)

    target_db.refresh(shipment)
    assert shipment.city == "Hamburg"
