from admin_tasks.shop_schema import Order, OutboxEmail, Shipment
from tests.admin_tasks.conftest import changes_of
from tests.factories import CustomerFactory, OrderFactory, OutboxEmailFactory, ShipmentFactory


def _customer_with_history():
    customer = CustomerFactory(name="Erin Erasure", phone="+49 30 1234567")
    delivered = OrderFactory(customer_id=customer.id, delivered=True, total_cents=4200)
    refunded = OrderFactory(customer_id=customer.id, status="refunded", total_cents=1500, refunded_cents=1500)
    shipment = ShipmentFactory(order_id=delivered.id, status="delivered", recipient_name="Erin Erasure",
                               line2="Apt 3", carrier="DHL", tracking_number="JJD0001")
    email = OutboxEmailFactory(customer_id=customer.id, order_id=delivered.id, to_address=customer.email)
    return customer, (delivered, refunded), shipment, email


def test_anonymize_customer_scrubs_personal_data_and_keeps_the_order_totals(desk, target_db):
    customer, (delivered, refunded), shipment, email = _customer_with_history()

    run = desk.run_approved("anonymize_customer", email=customer.email)

    assert run.status == "succeeded"
    target_db.refresh(customer)
    assert (customer.email, customer.name, customer.phone, customer.status) == (
        f"anonymized-{customer.id}@invalid", "Anonymized customer", None, "anonymized")
    target_db.refresh(shipment)
    assert (shipment.recipient_name, shipment.line1, shipment.line2, shipment.city, shipment.postcode,
            shipment.tracking_number) == ("[erased]", "[erased]", None, "[erased]", "[erased]", None)
    assert (shipment.country, shipment.carrier) == ("DE", "DHL")
    target_db.refresh(email)
    assert email.to_address == f"anonymized-{customer.id}@invalid"
    totals = target_db.execute(
        Order.__table__.select().where(Order.customer_id == customer.id).order_by(Order.id)).mappings().all()
    assert [(row["status"], row["total_cents"], row["refunded_cents"]) for row in totals] == [
        ("delivered", 4200, 0), ("refunded", 1500, 1500)]
    assert run.result == f"Anonymized customer {customer.id} (2 orders kept for accounting, " \
                         f"1 shipment addresses and 1 email addresses erased)"


def test_anonymize_customer_always_waits_for_approval(desk, target_db):
    customer = CustomerFactory()

    run = desk.run("anonymize_customer", email=customer.email)

    assert (run.status, run.risk) == ("pending_approval", "high")
    target_db.refresh(customer)
    assert customer.status == "active"


def test_anonymize_customer_refuses_while_orders_are_open(desk, target_db):
    customer = CustomerFactory()
    open_orders = [OrderFactory(customer_id=customer.id, status=status) for status in ("paid", "shipped")]
    OrderFactory(customer_id=customer.id, delivered=True)

    assert desk.refusal("anonymize_customer", email=customer.email) == (
        f"{customer.email} has open orders: {open_orders[0].id} (paid), {open_orders[1].id} (shipped); "
        f"erase once they are delivered, cancelled or refunded")

    target_db.refresh(customer)
    assert customer.status == "active"


def test_anonymize_customer_refuses_pending_and_processing_orders_too(desk):
    for status in ("pending", "processing"):
        customer = CustomerFactory()
        order = OrderFactory(customer_id=customer.id, status=status)
        assert f"{order.id} ({status})" in desk.refusal("anonymize_customer", email=customer.email)


def test_anonymize_customer_refuses_disabled_and_already_anonymized_accounts(desk):
    disabled = CustomerFactory(status="disabled")
    anonymized = CustomerFactory(status="anonymized")

    assert desk.refusal("anonymize_customer", email=disabled.email) == (
        f"{disabled.email} is disabled by the accounts team; send the erasure request to the privacy team")
    assert desk.refusal("anonymize_customer", email=anonymized.email) == f"{anonymized.email} is already anonymized"


def test_anonymize_customer_refuses_an_unknown_email(desk):
    assert "nobody@example.org" in desk.refusal("anonymize_customer", email="nobody@example.org")


def test_anonymize_customer_preview_shows_every_scrubbed_row_and_writes_nothing(desk, target_db):
    customer, _orders, shipment, email = _customer_with_history()
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("anonymize_customer", email=customer.email)

    assert [change["table"] for change in shown.changes] == ["customers", "shipments", "email_outbox"]
    customer_change = shown.changes[0]
    assert (customer_change["before"]["name"], customer_change["after"]["name"]) == (
        "Erin Erasure", "Anonymized customer")
    assert shown.changes[1]["after"]["recipient_name"] == "[erased]"
    assert (shown.needs_approval, shown.effects) == (True, [])
    target_db.refresh(customer)
    target_db.refresh(shipment)
    target_db.refresh(email)
    assert (customer.name, shipment.recipient_name, email.to_address) == (
        "Erin Erasure", "Erin Erasure", customer.email)
    assert desk.count(OutboxEmail) == emails_before
    assert desk.count(Shipment) >= 1


def test_anonymize_customer_is_not_undoable(desk):
    customer = CustomerFactory()
    run = desk.run_approved("anonymize_customer", email=customer.email)

    assert changes_of(run)
    assert "cannot be undone" in desk.undo_refusal(run) or "not undoable" in desk.undo_refusal(run)
