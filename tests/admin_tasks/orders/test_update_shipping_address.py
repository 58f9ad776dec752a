import pytest

from admin_tasks.shop_schema import OutboxEmail, Shipment
from console.tasks.runner import TaskError
from tests.factories import OrderFactory, ShipmentFactory

NEW_ADDRESS = {"recipient_name": "Alice Example", "line1": "Kastanienallee 5", "line2": "",
               "city": "Hamburg", "postcode": "20095", "country": "de"}
OLD_ADDRESS = ("Alice Example", "Lindenstr. 12", "Hinterhaus", "Berlin", "10115", "DE")


def _order_with_shipment(status="paid", shipment_status="pending"):
    order = OrderFactory(status=status)
    ShipmentFactory(order_id=order.id, status=shipment_status, recipient_name="Alice Example", line1="Lindenstr. 12",
                    line2="Hinterhaus", city="Berlin", postcode="10115", country="DE")
    return order


def _address(target_row, order) -> tuple:
    row = target_row("shipments", order_id=order.id)
    return tuple(row[column] for column in ("recipient_name", "line1", "line2", "city", "postcode", "country"))


def test_update_shipping_address_replaces_the_address_and_tells_the_customer(run_task, target_row, outbox):
    order = _order_with_shipment()

    run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    assert run.status == "succeeded", run.error
    assert run.result == f"Order {order.id} now ships to Alice Example, Kastanienallee 5, 20095 Hamburg, DE"
    assert _address(target_row, order) == ("Alice Example", "Kastanienallee 5", None, "Hamburg", "20095", "DE")
    assert [template for _to, template in outbox(order_id=order.id)] == ["shipping_address_changed"]
    [change] = run.changes_data
    assert sorted(change["after"]) == ["city", "line1", "line2", "postcode"]


def test_update_shipping_address_works_while_the_order_is_at_the_warehouse(run_task, target_row):
    order = _order_with_shipment(status="processing")

    assert run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS).status == "succeeded"

    assert _address(target_row, order)[3] == "Hamburg"


def test_update_shipping_address_refuses_an_order_that_has_shipped(run_task, target_row, outbox):
    for status in ("shipped", "delivered"):
        order = _order_with_shipment(status=status, shipment_status=status)

        run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

        assert (run.status, run.error) == (
            "refused", f"order {order.id} has already shipped (status: {status}); only the carrier can redirect it")
        assert _address(target_row, order) == OLD_ADDRESS
        assert outbox(order_id=order.id) == []


def test_update_shipping_address_refuses_an_order_whose_parcel_left_early(run_task):
    order = _order_with_shipment(status="processing", shipment_status="shipped")

    run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    assert (run.status, run.error) == ("refused", f"order {order.id} has already shipped (shipment: shipped)")


def test_update_shipping_address_refuses_cancelled_and_refunded_orders(run_task):
    for status in ("cancelled", "refunded"):
        order = _order_with_shipment(status=status)

        run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

        assert (run.status, run.error) == ("refused", f"order {order.id} is {status}; it will not ship")


def test_update_shipping_address_refuses_an_order_without_a_shipment_yet(run_task):
    order = OrderFactory(status="pending")

    run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    assert (run.status, run.error) == (
        "refused",
        f"order {order.id} has no shipment yet (status: pending); its address can be changed once it is paid")


def test_update_shipping_address_refuses_the_address_it_already_has(run_task):
    order = _order_with_shipment()
    same = dict(zip(("recipient_name", "line1", "line2", "city", "postcode", "country"), OLD_ADDRESS))

    run = run_task("update_shipping_address", order_id=order.id, **{**same, "recipient_name": " Alice Example "})

    assert (run.status, run.error) == ("refused", f"order {order.id} already ships to this address; nothing to change")


def test_update_shipping_address_rejects_a_blank_field_and_a_country_that_is_not_a_code(run_task, target_row):
    order = _order_with_shipment()

    with pytest.raises(TaskError) as invalid:
        run_task("update_shipping_address", order_id=order.id, **{**NEW_ADDRESS, "city": "   ", "country": "DEU"})

    assert (invalid.value.status, set(invalid.value.fields)) == (400, {"city", "country"})
    assert _address(target_row, order) == OLD_ADDRESS


def test_update_shipping_address_refuses_an_unknown_order(run_task):
    run = run_task("update_shipping_address", order_id=8999999, **NEW_ADDRESS)

    assert (run.status, run.error) == ("refused", "order 8999999 not found")


def test_update_shipping_address_preview_shows_old_and_new_address_and_writes_nothing(preview_task, target_row,
                                                                                      count_rows):
    order = _order_with_shipment()
    emails = count_rows(OutboxEmail)

    shown = preview_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    [change] = shown.changes
    assert change["table"] == "shipments"
    assert change["before"] == {"line1": "Lindenstr. 12", "line2": "Hinterhaus", "city": "Berlin", "postcode": "10115"}
    assert change["after"] == {"line1": "Kastanienallee 5", "line2": None, "city": "Hamburg", "postcode": "20095"}
    assert [line.split(" to ")[0] for line in shown.effects] == ["email 'shipping_address_changed'"]
    assert _address(target_row, order) == OLD_ADDRESS
    assert count_rows(OutboxEmail) == emails


def test_undo_update_shipping_address_puts_the_old_address_back(run_task, undo, target_row, outbox):
    order = _order_with_shipment()
    run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)

    undone = undo(run)

    assert (undone.status, undone.result) == ("succeeded", f"Order {order.id} ships to its previous address again")
    assert _address(target_row, order) == OLD_ADDRESS
    assert [template for _to, template in outbox(order_id=order.id)] == ["shipping_address_changed"] * 2


def test_undo_update_shipping_address_is_refused_once_the_parcel_has_shipped(run_task, undo, target_row, target_db):
    order = _order_with_shipment()
    run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)
    target_db.execute(Shipment.__table__.update()
                      .where(Shipment.order_id == order.id).values(status="shipped"))

    undone = undo(run)

    assert (undone.status, undone.error) == (
        "refused", f"order {order.id} has shipped since run {run.id} (shipment: shipped); only the carrier can "
                   f"redirect it")
    assert _address(target_row, order)[3] == "Hamburg"


def test_undo_update_shipping_address_is_refused_when_the_address_changed_again(run_task, undo, target_row):
    order = _order_with_shipment()
    run = run_task("update_shipping_address", order_id=order.id, **NEW_ADDRESS)
    assert run_task("update_shipping_address", order_id=order.id, **{**NEW_ADDRESS, "city": "Bremen"}).status == (
        "succeeded")

    undone = undo(run)

    assert (undone.status, undone.error) == (
        "refused", f"the address of order {order.id} changed again since run {run.id}")
    assert _address(target_row, order)[3] == "Bremen"


def test_update_shipping_address_on_the_demo_shop(demo_shop, run_task, target_row):
    assert run_task("update_shipping_address", order_id=1002, **NEW_ADDRESS).error == (
        "order 1002 has already shipped (status: shipped); only the carrier can redirect it")

    assert run_task("update_shipping_address", order_id=1001, **NEW_ADDRESS).status == "succeeded"
    assert target_row("shipments", order_id=1001)["city"] == "Hamburg"
