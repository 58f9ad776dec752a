"""Cancel an order that has not shipped yet."""
from typing import Annotated

from console.tasks import Param, Refusal, TaskContext, format_money, task

CANCELLABLE = ("pending", "paid", "processing")


def reopen_order(ctx: TaskContext, run) -> str:
    """Put a cancelled order back into the status it had, unless money moved since the cancellation."""
    [change] = [change for change in run.changes if change["table"] == "orders"]
    order_id = change["key"]
    if any(change["table"] == "payments" for change in run.changes):
        raise Refusal(f"run {run.id} voided the payment authorization of order {order_id}, and a voided "
                      f"authorization cannot be revived; the customer must order again")
    order = ctx.get("orders", order_id, lock=True)
    for column, after in change["after"].items():
        if order[column] != ctx.from_json("orders", column, after):
            raise Refusal(f"order {order_id} changed since run {run.id} (status: {order['status']}, "
                          f"refunded: {order['refunded_cents']} cents)")
    restored = {column: ctx.from_json("orders", column, before) for column, before in change["before"].items()}
    ctx.update("orders", order, **restored)
    return f"Order {order_id} is {restored['status']} again"


def cancellable(order) -> bool | str:
    """Offered on orders that have not left the warehouse; the task's own checks still decide."""
    if order["status"] in ("shipped", "delivered"):
        return f"the order is {order['status']}; treat it as a return"
    return True if order["status"] in CANCELLABLE else f"the order is {order['status']}"


def cancelled_reply(params: dict, result: str) -> str:
    reply = f"We have cancelled your order {params['order_id']}; it will not be shipped."
    if "voided" in result:
        reply += " The hold on your card has been released: nothing was charged."
    return reply


@task(title="Cancel an order", category="Orders", offered_on="orders", record_param="order_id",
      risk="medium", undo=reopen_order, applies_when=cancellable, reply=cancelled_reply,
      examples=[{"order_id": 1001}])
def cancel_order(
    ctx: TaskContext,
    order_id: Annotated[int, Param("Order number", min=1)],
) -> str:
    """Stop an order that has not left the warehouse (pending, paid or processing) so that it never ships, and
    tell the customer. A card payment that was only authorized is voided, which releases the hold on the
    customer's card: nothing was charged. A captured payment is left alone: cancelling does not send money back,
    so refund the order straight after, on the same ticket. Shipped and delivered orders are refused (that is a
    return), as are orders already cancelled or refunded. Undo puts the order back into its previous status; it is
    refused once a refund has been issued or when the cancellation voided an authorization, which cannot be
    revived (the customer must order again)."""
    order = ctx.get("orders", order_id, lock=True)
    status = order["status"]
    if status in ("shipped", "delivered"):
        raise Refusal(f"order {order_id} has already shipped (status: {status}); treat it as a return")
    if status == "cancelled":
        raise Refusal(f"order {order_id} is already cancelled")
    if status not in CANCELLABLE:
        raise Refusal(f"order {order_id} is {status}; there is nothing left to cancel")

    ctx.update("orders", order, status="cancelled", status_changed_at=ctx.now, updated_at=ctx.now)
    voided = captured = 0
    for payment in ctx.find_all("payments", order_id=order_id):
        if payment["status"] == "authorized":
            ctx.update("payments", payment, status="voided")
            voided += payment["amount_cents"]
        elif payment["status"] == "captured":
            captured += payment["amount_cents"]
    customer = ctx.get("customers", order["customer_id"])
    ctx.send_email(to=customer["email"], template="order_cancelled", subject=f"Your order {order_id} is cancelled",
                   customer_id=customer["id"], order_id=order_id)

    # A preview words what will happen; the run, what happened.
    will = ctx.is_preview
    result = f"{'Will cancel' if will else 'Cancelled'} order {order_id}"
    if voided:
        money = format_money(voided, order["currency"])
        result += (f"; will void the authorized payment of {money}, nothing will be charged" if will else
                   f"; voided the authorized payment of {money}, nothing was charged")
    refundable = min(captured, order["total_cents"]) - order["refunded_cents"]
    if refundable > 0:
        result += f"; {format_money(refundable, order['currency'])} {'is' if will else 'was'} captured: " \
                  f"refund it with “Refund an order”"
    return result
