import pytest
from sqlalchemy import select

from admin_tasks.shop_schema import OutboxEmail
from console.audit.models import AuditEntry
from console.tasks.runner import TaskError
from tests.factories import CustomerFactory, OrderFactory, OutboxEmailFactory, ShipmentFactory


@pytest.fixture
def erin():
    """A customer with a delivered and a refunded order, a shipment address and an email sent."""
    customer = CustomerFactory(email="erin@example.org", name="Erin Erasure", phone="+49 30 1234567")
    delivered = OrderFactory(customer_id=customer.id, delivered=True, total_cents=4200)
    OrderFactory(customer_id=customer.id, status="refunded", total_cents=1500, refunded_cents=1500)
    ShipmentFactory(order_id=delivered.id, status="delivered", recipient_name="Erin Erasure", line2="Apt 3",
                    carrier="DHL", tracking_number="JJD0001")
    OutboxEmailFactory(customer_id=customer.id, order_id=delivered.id, to_address="erin@example.org")
    return customer


def test_anonymize_customer_scrubs_personal_data_and_keeps_the_order_totals(run_task, approve, target_row, erin):
    run = approve(run_task("anonymize_customer", email="erin@example.org"))

    assert run.status == "succeeded", run.error
    assert run.result == (f"Anonymized customer {erin.id}: kept 2 orders for accounting, erased the address on "
                          f"1 shipment and 1 email")
    customer = target_row("customers", id=erin.id)
    assert (customer["email"], customer["name"], customer["phone"], customer["status"]) == (
        f"anonymized-{erin.id}@invalid", "Anonymized customer", None, "anonymized")
    shipment = target_row("shipments", order_id=target_row("orders", customer_id=erin.id, status="delivered")["id"])
    assert {column: shipment[column] for column in ("recipient_name", "line1", "line2", "city", "postcode",
                                                    "tracking_number", "country", "carrier")} == {
        "recipient_name": "[erased]", "line1": "[erased]", "line2": None, "city": "[erased]",
        "postcode": "[erased]", "tracking_number": None, "country": "DE", "carrier": "DHL"}
    assert target_row("email_outbox", customer_id=erin.id)["to_address"] == f"anonymized-{erin.id}@invalid"
    assert target_row("orders", customer_id=erin.id, status="delivered")["total_cents"] == 4200
    assert target_row("orders", customer_id=erin.id, status="refunded")["refunded_cents"] == 1500


def test_anonymize_customer_keeps_the_erased_values_out_of_the_run_and_the_audit(run_task, approve, console_db,
                                                                               erin):
    run = approve(run_task("anonymize_customer", email="erin@example.org"))

    details = console_db.scalars(select(AuditEntry.details).where(AuditEntry.subject_type == "task_run",
                                                                  AuditEntry.subject_id == str(run.id))).all()
    assert len(details) >= 3  # approval request, intent, outcome
    for stored in [run.changes, *details]:
        assert "Erin Erasure" not in stored and "1234567" not in stored and "JJD0001" not in stored
    [customer_change] = [change for change in run.changes_data if change["table"] == "customers"]
    assert set(customer_change["before"].values()) == {"[redacted]"}


def test_anonymize_customer_always_waits_for_a_lead(run_task, target_row):
    customer = CustomerFactory()

    run = run_task("anonymize_customer", email=customer.email)

    assert (run.status, run.risk) == ("pending_approval", "high")
    assert target_row("customers", id=customer.id)["status"] == "active"


def test_anonymize_customer_refuses_while_orders_are_open(run_task, target_row):
    customer = CustomerFactory()
    paid, shipped = OrderFactory(customer_id=customer.id), OrderFactory(customer_id=customer.id, shipped=True)
    OrderFactory(customer_id=customer.id, delivered=True)

    run = run_task("anonymize_customer", email=customer.email)

    assert (run.status, run.error) == ("refused", f"{customer.email} has open orders: {paid.id} (paid), "
                                                  f"{shipped.id} (shipped); erase once they are delivered, "
                                                  f"cancelled or refunded")
    assert target_row("customers", id=customer.id)["status"] == "active"


def test_anonymize_customer_counts_pending_and_processing_orders_as_open(run_task):
    for status in ("pending", "processing"):
        customer = CustomerFactory()
        order = OrderFactory(customer_id=customer.id, status=status)

        run = run_task("anonymize_customer", email=customer.email)

        assert run.status == "refused"
        assert f"has open orders: {order.id} ({status})" in run.error


def test_anonymize_customer_refuses_disabled_and_already_anonymized_accounts(run_task):
    disabled = CustomerFactory(status="disabled")
    anonymized = CustomerFactory(status="anonymized")

    assert run_task("anonymize_customer", email=disabled.email).error == (
        f"{disabled.email} is disabled by the accounts team; send the erasure request to the privacy team")
    assert run_task("anonymize_customer", email=anonymized.email).error == f"{anonymized.email} is already anonymized"


def test_anonymize_customer_refuses_an_unknown_email(run_task):
    run = run_task("anonymize_customer", email="nobody@example.org")

    assert (run.status, run.error) == ("refused", "no customer with email nobody@example.org")


def test_anonymize_customer_preview_shows_every_scrubbed_row_and_writes_nothing(preview_task, target_row,
                                                                                count_rows, erin):
    emails = count_rows(OutboxEmail)

    shown = preview_task("anonymize_customer", email="erin@example.org")

    assert [change["table"] for change in shown.changes] == ["customers", "shipments", "email_outbox"]
    assert (shown.changes[0]["before"]["name"], shown.changes[0]["after"]["name"]) == (
        "Erin Erasure", "Anonymized customer")
    assert (shown.changes[1]["before"]["line2"], shown.changes[1]["after"]["line2"]) == ("Apt 3", None)
    assert shown.changes[2]["after"]["to_address"] == f"anonymized-{erin.id}@invalid"
    assert (shown.needs_approval, shown.effects) == (True, [])
    assert target_row("customers", id=erin.id)["name"] == "Erin Erasure"
    assert target_row("email_outbox", customer_id=erin.id)["to_address"] == "erin@example.org"
    assert count_rows(OutboxEmail) == emails


def test_anonymize_customer_cannot_be_undone(run_task, approve, undo):
    run = approve(run_task("anonymize_customer", email=CustomerFactory().email))

    with pytest.raises(TaskError) as refused:
        undo(run)

    assert refused.value.status == 422
    assert "cannot be undone" in refused.value.message


def test_anonymize_customer_on_the_demo_shop(demo_shop, run_task):
    assert run_task("anonymize_customer", email="alice@example.com").error == (
        "alice@example.com has open orders: 1001 (paid), 1002 (shipped), 1003 (processing); "
        "erase once they are delivered, cancelled or refunded")

    assert run_task("anonymize_customer", email="locked@example.com").status == "pending_approval"
