from sqlalchemy import select

from admin_tasks.shop_schema import OutboxEmail, Refund
from tests.admin_tasks.conftest import REASON, change_to, changes_of
from tests.factories import CustomerFactory, OrderFactory, PaymentFactory


def _charged_order(**fields):
    order = OrderFactory(**fields)
    PaymentFactory(order_id=order.id, amount_cents=order.total_cents, status="captured")
    return order


def _refunds(target_db, order) -> list[tuple[int, str]]:
    rows = target_db.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id))
    return [(row.amount_cents, row.reason) for row in rows]


def test_refund_order_records_a_partial_refund_and_emails_the_customer(desk, target_db):
    order = _charged_order(delivered=True, total_cents=25000)

    run = desk.run("refund_order", order_id=order.id, amount_cents=3000)

    assert (run.status, run.risk) == ("succeeded", "medium")
    assert run.result == f"Refunded 3000 cents on order {order.id}; 22000 cents left to refund"
    target_db.refresh(order)
    assert (order.refunded_cents, order.status) == (3000, "delivered")
    assert _refunds(target_db, order) == [(3000, REASON)]
    customer = order.customer_id
    assert [template for _to, template in desk.outbox(customer_id=customer, order_id=order.id)] == ["refund_issued"]
    [refund_change] = change_to(changes_of(run), "refunds")
    assert refund_change["before"] is None


def test_refund_order_of_the_rest_marks_the_order_refunded(desk, target_db):
    order = _charged_order(delivered=True, total_cents=5000, refunded_cents=1000)

    run = desk.run("refund_order", order_id=order.id, amount_cents=4000)

    assert run.status == "succeeded"
    target_db.refresh(order)
    assert (order.refunded_cents, order.status) == (5000, "refunded")


def test_refund_order_above_10000_cents_waits_for_a_lead_then_runs(desk, target_db):
    order = _charged_order(delivered=True, total_cents=25000)

    requested = desk.run("refund_order", order_id=order.id, amount_cents=12000)
    assert (requested.status, requested.risk) == ("pending_approval", "high")
    target_db.refresh(order)
    assert order.refunded_cents == 0

    approved = desk.run_approved("refund_order", order_id=order.id, amount_cents=12000)
    assert approved.status == "succeeded"
    target_db.refresh(order)
    assert order.refunded_cents == 12000


def test_refund_order_refuses_more_than_is_left_to_refund(desk, target_db):
    order = _charged_order(delivered=True, total_cents=5000, refunded_cents=3000)

    assert desk.refusal("refund_order", order_id=order.id, amount_cents=2500) == (
        f"order {order.id} has only 2000 cents left to refund, not 2500")

    target_db.refresh(order)
    assert order.refunded_cents == 3000
    assert _refunds(target_db, order) == []
    assert desk.outbox(order_id=order.id) == []


def test_refund_order_refuses_an_order_refunded_in_full(desk):
    order = _charged_order(status="refunded", total_cents=5000, refunded_cents=5000)

    assert desk.refusal("refund_order", order_id=order.id, amount_cents=100) == (
        f"order {order.id} is already refunded in full")


def test_refund_order_refuses_orders_that_were_never_charged(desk, target_db):
    pending = OrderFactory(status="pending")
    PaymentFactory(order_id=pending.id, status="authorized")
    cancelled = OrderFactory(status="cancelled")
    PaymentFactory(order_id=cancelled.id, status="voided")
    unpaid = OrderFactory(status="pending")

    assert desk.refusal("refund_order", order_id=pending.id, amount_cents=100) == (
        f"order {pending.id} was never charged (payment: authorized); there is nothing to refund")
    assert desk.refusal("refund_order", order_id=cancelled.id, amount_cents=100) == (
        f"order {cancelled.id} was never charged (payment: voided); there is nothing to refund")
    assert desk.refusal("refund_order", order_id=unpaid.id, amount_cents=100) == (
        f"order {unpaid.id} was never charged (payment: none); there is nothing to refund")
    target_db.refresh(pending)
    assert pending.refunded_cents == 0


def test_refund_order_refunds_an_order_cancelled_after_it_was_charged(desk, target_db):
    order = _charged_order(status="cancelled", total_cents=5000)

    run = desk.run("refund_order", order_id=order.id, amount_cents=5000)

    assert run.status == "succeeded"
    target_db.refresh(order)
    assert (order.refunded_cents, order.status) == (5000, "refunded")


def test_refund_order_refuses_an_unknown_order(desk):
    assert "order 8999999 not found" in desk.refusal("refund_order", order_id=8999999, amount_cents=100)


def test_refund_order_rejects_a_zero_amount(desk):
    order = _charged_order(delivered=True)

    assert set(desk.invalid_fields("refund_order", order_id=order.id, amount_cents=0)) == {"amount_cents"}


def test_refund_order_does_not_email_an_anonymized_customer(desk, target_db):
    customer = CustomerFactory(status="anonymized", email="anonymized-1@invalid")
    order = _charged_order(customer_id=customer.id, delivered=True)

    assert desk.run("refund_order", order_id=order.id, amount_cents=500).status == "succeeded"

    assert desk.outbox(customer_id=customer.id) == []
    assert _refunds(target_db, order) == [(500, REASON)]


def test_refund_order_preview_shows_the_refund_and_writes_nothing(desk, target_db):
    order = _charged_order(delivered=True, total_cents=25000)
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("refund_order", order_id=order.id, amount_cents=3000)

    [order_change] = change_to(shown.changes, "orders")
    assert (order_change["before"]["refunded_cents"], order_change["after"]["refunded_cents"]) == (0, 3000)
    [refund_change] = change_to(shown.changes, "refunds")
    assert (refund_change["before"], refund_change["after"]["amount_cents"]) == (None, 3000)
    assert len(shown.effects) == 1
    assert (shown.risk, shown.needs_approval) == ("medium", False)
    target_db.refresh(order)
    assert order.refunded_cents == 0
    assert _refunds(target_db, order) == []
    assert desk.count(OutboxEmail) == emails_before


def test_refund_order_is_not_undoable(desk):
    order = _charged_order(delivered=True)
    run = desk.run("refund_order", order_id=order.id, amount_cents=100)

    assert desk.undo_refusal(run)
