import pytest
from sqlalchemy import select

from admin_tasks.shop_schema import OutboxEmail, Refund
from console.tasks.runner import TaskError
from console.tasks.testing import TEST_REASON
from tests.factories import CustomerFactory, OrderFactory, PaymentFactory


def _charged_order(**fields):
    order = OrderFactory(**fields)
    PaymentFactory(order_id=order.id, amount_cents=order.total_cents, status="captured")
    return order


@pytest.fixture
def refunds(dbs, target_db):
    """(amount_cents, reason) of an order's refunds, oldest first."""

    def read(order) -> list[tuple[int, str]]:
        rows = target_db.execute(select(Refund.amount_cents, Refund.reason).where(Refund.order_id == order.id)
                                 .order_by(Refund.id))
        return [tuple(row) for row in rows]

    return read


def _state(target_row, order) -> tuple:
    row = target_row("orders", id=order.id)
    return row["refunded_cents"], row["status"]


def test_refund_order_records_a_partial_refund_and_emails_the_customer(run_task, target_row, refunds, outbox):
    order = _charged_order(delivered=True, total_cents=25000)

    run = run_task("refund_order", order_id=order.id, amount_cents=3000)

    assert (run.status, run.risk) == ("succeeded", "medium"), run.error
    assert run.result == f"Refunded EUR 30.00 on order {order.id}; EUR 220.00 left to refund"
    assert _state(target_row, order) == (3000, "delivered")
    assert refunds(order) == [(3000, TEST_REASON)]
    assert [template for _to, template in outbox(order_id=order.id)] == ["refund_issued"]


def test_refund_order_of_the_rest_marks_the_order_refunded(run_task, target_row):
    order = _charged_order(delivered=True, total_cents=5000, refunded_cents=1000)

    assert run_task("refund_order", order_id=order.id, amount_cents=4000).status == "succeeded"

    assert _state(target_row, order) == (5000, "refunded")


def test_refund_order_above_10000_cents_waits_for_a_lead(run_task, approve, target_row, refunds):
    order = _charged_order(delivered=True, total_cents=25000)

    requested = run_task("refund_order", order_id=order.id, amount_cents=12000)

    assert (requested.status, requested.risk) == ("pending_approval", "high")
    assert (_state(target_row, order), refunds(order)) == ((0, "delivered"), [])
    assert approve(requested).status == "succeeded"
    assert _state(target_row, order) == (12000, "delivered")


def test_refund_order_refuses_more_than_is_left_to_refund(run_task, target_row, refunds, outbox):
    order = _charged_order(delivered=True, total_cents=5000, refunded_cents=3000)

    run = run_task("refund_order", order_id=order.id, amount_cents=2500)

    assert (run.status, run.error) == ("refused", f"order {order.id} has only EUR 20.00 left to refund, not EUR 25.00")
    assert _state(target_row, order) == (3000, "delivered")
    assert refunds(order) == outbox(order_id=order.id) == []


def test_refund_order_refuses_an_order_refunded_in_full(run_task):
    order = _charged_order(status="refunded", total_cents=5000, refunded_cents=5000)

    run = run_task("refund_order", order_id=order.id, amount_cents=100)

    assert (run.status, run.error) == ("refused", f"order {order.id} is already refunded in full")


def test_refund_order_refuses_orders_that_were_never_charged(run_task, target_row):
    pending = OrderFactory(status="pending")
    PaymentFactory(order_id=pending.id, status="authorized")
    cancelled = OrderFactory(status="cancelled")
    PaymentFactory(order_id=cancelled.id, status="voided")
    unpaid = OrderFactory(status="pending")

    for order, payment in ((pending, "authorized"), (cancelled, "voided"), (unpaid, "none")):
        run = run_task("refund_order", order_id=order.id, amount_cents=100)

        assert (run.status, run.error) == (
            "refused", f"order {order.id} was never charged (payment: {payment}); there is nothing to refund")
        assert target_row("orders", id=order.id)["refunded_cents"] == 0


def test_refund_order_refunds_an_order_cancelled_after_it_was_charged(run_task, target_row):
    order = _charged_order(status="cancelled", total_cents=5000)

    assert run_task("refund_order", order_id=order.id, amount_cents=5000).status == "succeeded"

    assert _state(target_row, order) == (5000, "refunded")


def test_refund_order_refuses_an_order_in_another_currency(run_task, target_row):
    order = _charged_order(delivered=True, total_cents=5000, currency="USD")

    run = run_task("refund_order", order_id=order.id, amount_cents=100)

    assert (run.status, run.error) == ("refused", f"order {order.id} is in USD; this task refunds EUR only")
    assert target_row("orders", id=order.id)["refunded_cents"] == 0


def test_refund_order_states_its_currency_and_takes_euros_on_its_form(app):
    from console.tasks.registry import task_registry

    amount = task_registry(app).get("refund_order").param("amount_cents")
    assert (amount.kind, amount.currency, amount.label) == ("money", "EUR", "Amount to refund")
    assert amount.shown(3000) == "EUR 30.00"


def test_refund_order_refuses_an_unknown_order(run_task):
    run = run_task("refund_order", order_id=8999999, amount_cents=100)

    assert (run.status, run.error) == ("refused", "order 8999999 not found")


def test_refund_order_rejects_a_zero_amount(run_task):
    order = _charged_order(delivered=True)

    with pytest.raises(TaskError) as invalid:
        run_task("refund_order", order_id=order.id, amount_cents=0)

    assert (invalid.value.status, set(invalid.value.fields)) == (400, {"amount_cents"})


def test_refund_order_does_not_email_an_anonymized_customer(run_task, outbox, refunds):
    customer = CustomerFactory(status="anonymized", email="anonymized-1@invalid")
    order = _charged_order(customer_id=customer.id, delivered=True)

    assert run_task("refund_order", order_id=order.id, amount_cents=500).status == "succeeded"

    assert refunds(order) == [(500, TEST_REASON)]
    assert outbox(customer_id=customer.id) == []


def test_refund_order_preview_shows_the_refund_and_writes_nothing(preview_task, target_row, refunds, count_rows):
    order = _charged_order(delivered=True, total_cents=25000)
    emails = count_rows(OutboxEmail)

    shown = preview_task("refund_order", order_id=order.id, amount_cents=3000)

    order_change, refund_change = shown.changes
    assert (order_change["table"], order_change["before"]["refunded_cents"],
            order_change["after"]["refunded_cents"]) == ("orders", 0, 3000)
    assert (refund_change["table"], refund_change["before"], refund_change["after"]["amount_cents"]) == (
        "refunds", None, 3000)
    assert [line.split(" to ")[0] for line in shown.effects] == ["email 'refund_issued'"]
    assert shown.result == f"Will refund EUR 30.00 on order {order.id}; EUR 220.00 will be left to refund"
    assert (shown.risk, shown.needs_approval) == ("medium", False)
    assert (_state(target_row, order), refunds(order)) == ((0, "delivered"), [])
    assert count_rows(OutboxEmail) == emails


def test_refund_order_cannot_be_undone(run_task, undo):
    run = run_task("refund_order", order_id=_charged_order(delivered=True).id, amount_cents=100)

    with pytest.raises(TaskError) as refused:
        undo(run)

    assert "cannot be undone" in refused.value.message


def test_refund_order_on_the_demo_shop(demo_shop, run_task, target_row):
    assert run_task("refund_order", order_id=1004, amount_cents=30000).error == (
        "order 1004 has only EUR 250.00 left to refund, not EUR 300.00")

    assert run_task("refund_order", order_id=1004, amount_cents=3000).status == "succeeded"
    assert target_row("orders", id=1004)["refunded_cents"] == 3000
    assert target_row("refunds", order_id=1004)["amount_cents"] == 3000
