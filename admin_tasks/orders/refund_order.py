"""Send money back to the customer for part or all of an order.

The currency rule: the task states its currency (Param(currency="EUR")), and refuses an order in any other,
so the amount an agent types in euros is the amount the order is refunded. The form takes euros (26.50); the
API and `tasks run --param` take whole cents (2650), as the parameter's name says.
"""
from typing import Annotated

from console.tasks import Money, Param, Refusal, TaskContext, format_money, task

# The shop sells in euros: the task states its currency, and refuses an order in any other.
CURRENCY = "EUR"
APPROVAL_ABOVE_CENTS = 10000


def refund_risk(params: dict) -> str:
    """High above EUR 100.00, otherwise medium."""
    return "high" if params["amount_cents"] > APPROVAL_ABOVE_CENTS else "medium"


def refundable(order) -> bool | str:
    """Offered while some of the order's total is not refunded yet (the payment is checked by the task)."""
    if order["status"] == "refunded" or order["refunded_cents"] >= order["total_cents"]:
        return "the order is already refunded in full"
    return True


def refunded_reply(params: dict, result: str) -> str:
    return (f"We have refunded {format_money(params['amount_cents'], CURRENCY)} on your order {params['order_id']} "
            f"to the card you paid with. Your bank usually shows it within 5 working days.")


def refund_reads(reads, items: list[dict]) -> None:
    """In a bulk, a chunk's orders (locked, as the task locks each), their payments and customers at once."""
    order_ids = [params["order_id"] for params in items]
    orders = reads.get_many("orders", order_ids, lock=True)
    reads.find_many("payments", "order_id", order_ids)
    reads.get_many("customers", [order["customer_id"] for order in orders])


@task(title="Refund an order", category="Orders", offered_on="orders", record_param="order_id",
      risk=refund_risk, applies_when=refundable, reply=refunded_reply, batch_reads=refund_reads,
      examples=[{"order_id": 1004, "amount_cents": 3000}],
      undo_note="A refund sends real money back to the customer's card; it cannot be taken back from the console.")
def refund_order(
    ctx: TaskContext,
    order_id: Annotated[int, Param("Order number", min=1)],
    amount_cents: Annotated[Money, Param("Amount to refund", min=1, currency=CURRENCY,
                                         help="In euros, e.g. 26.50. At most the total minus what was already "
                                              "refunded.")],
) -> str:
    """Refund part or all of an order to the card it was paid with, and email the customer. The amount is in
    euros, the shop's currency; an order in another currency is refused. It can be at most what is still
    refundable: the order total minus earlier refunds. Only money that was actually charged can go back, so the order's payment must be captured: a
    pending order, or one cancelled before it was charged, is refused. The refund is recorded on the order,
    and an order refunded in full becomes refunded. Refunds above EUR 100.00 wait for a lead's approval."""
    order = ctx.get("orders", order_id, lock=True)
    if order["currency"] != CURRENCY:
        raise Refusal(f"order {order_id} is in {order['currency']}; this task refunds {CURRENCY} only")
    payments = ctx.find_all("payments", order_id=order_id)
    if not any(payment["status"] == "captured" for payment in payments):
        states = ", ".join(sorted({payment["status"] for payment in payments})) or "none"
        raise Refusal(f"order {order_id} was never charged (payment: {states}); there is nothing to refund")
    refundable = order["total_cents"] - order["refunded_cents"]
    if refundable <= 0:
        raise Refusal(f"order {order_id} is already refunded in full")
    if amount_cents > refundable:
        raise Refusal(f"order {order_id} has only {format_money(refundable, CURRENCY)} left to refund, "
                      f"not {format_money(amount_cents, CURRENCY)}")

    refunded = order["refunded_cents"] + amount_cents
    changes = {"refunded_cents": refunded, "updated_at": ctx.now}
    if refunded == order["total_cents"]:
        changes.update(status="refunded", status_changed_at=ctx.now)
    ctx.update("orders", order, **changes)
    ctx.insert("refunds", order_id=order_id, amount_cents=amount_cents, reason=ctx.reason, created_at=ctx.now)
    customer = ctx.get("customers", order["customer_id"])
    if customer["status"] != "anonymized":
        ctx.send_email(to=customer["email"], template="refund_issued",
                       subject=f"We have refunded {format_money(amount_cents, CURRENCY)} on order {order_id}",
                       customer_id=customer["id"], order_id=order_id)
    amount, left = format_money(amount_cents, CURRENCY), format_money(refundable - amount_cents, CURRENCY)
    if ctx.is_preview:  # what will happen, not what happened
        return f"Will refund {amount} on order {order_id}; {left} will be left to refund"
    return f"Refunded {amount} on order {order_id}; {left} left to refund"
