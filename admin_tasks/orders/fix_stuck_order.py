"""Hand an order stuck in processing back to fulfilment."""
from datetime import timedelta
from typing import Annotated

from console.tasks import Param, Refusal, TaskContext, task

STUCK_AFTER = timedelta(days=2)


def in_processing(order) -> bool | str:
    """Offered on orders in processing; how long, and whether the money is in, the task checks itself."""
    return True if order["status"] == "processing" else f"the order is {order['status']}, not in processing"


@task(title="Fix an order stuck in processing", category="Orders", offered_on="orders", record_param="order_id",
      risk="medium", applies_when=in_processing,
      reply=lambda params, result: f"Your order {params['order_id']} is back with our warehouse and should ship "
                                   f"within a working day.",
      examples=[{"order_id": 1003}],
      undo_note="Once the order is back in fulfilment the warehouse may pick it at any moment; putting it back "
                "into processing would hide it from them again.")
def fix_stuck_order(
    ctx: TaskContext,
    order_id: Annotated[int, Param("Order number", min=1)],
) -> str:
    """Send an order that has sat in processing for more than two days back to fulfilment: its status goes back
    to paid, so the warehouse picks it up again, usually within a working day. It only does this when the
    customer's money is in: the payment must be captured, because shipping goods that are not paid for loses
    money. It is refused for orders that are not in processing, that have been in processing for two days or
    less (that is normal), whose payment is not captured, or whose parcel has already left (it would ship twice)."""
    order = ctx.get("orders", order_id, lock=True)
    if order["status"] != "processing":
        raise Refusal(f"order {order_id} is not in processing (status: {order['status']})")
    waiting = ctx.now - order["status_changed_at"]
    if waiting <= STUCK_AFTER:
        raise Refusal(f"order {order_id} has been in processing for only {_duration(waiting)}; "
                      f"it counts as stuck after {STUCK_AFTER.days} days")
    payments = ctx.find_all("payments", order_id=order_id)
    if not any(payment["status"] == "captured" for payment in payments):
        states = ", ".join(sorted({payment["status"] for payment in payments})) or "none"
        raise Refusal(f"order {order_id}'s payment is not captured (payment: {states}); escalate to payments")
    left = [shipment for shipment in ctx.find_all("shipments", order_id=order_id) if shipment["status"] != "pending"]
    if left:
        raise Refusal(f"order {order_id} has a shipment that already left the warehouse "
                      f"(status: {left[0]['status']}); escalate to fulfilment")
    ctx.update("orders", order, status="paid", status_changed_at=ctx.now, updated_at=ctx.now)
    if ctx.is_preview:  # what will happen, not what happened
        return f"Will send order {order_id} back to fulfilment after {_duration(waiting)} in processing"
    return f"Sent order {order_id} back to fulfilment after {_duration(waiting)} in processing"


def _duration(span: timedelta) -> str:
    if span.days >= 1:
        return f"{span.days} day{'s' if span.days != 1 else ''} {span.seconds // 3600} h"
    return f"{span.seconds // 3600} h {span.seconds % 3600 // 60} min"
