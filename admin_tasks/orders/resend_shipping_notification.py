"""Send the shipping email with the tracking number again."""
from typing import Annotated

from console.tasks import Param, Refusal, TaskContext, task


@task(title="Resend the shipping notification", category="Orders", offered_on="orders", record_param="order_id",
      risk="low",
      applies_when=lambda order: True if order["status"] == "shipped" else f"the order is {order['status']}, "
                                                                          f"not on its way",
      reply=lambda params, result: f"We have sent you the shipping email for order {params['order_id']} again, "
                                   f"with the link to track your parcel.",
      examples=[{"order_id": 1002}])
def resend_shipping_notification(
    ctx: TaskContext,
    order_id: Annotated[int, Param("Order number", min=1)],
) -> str:
    """Queue the "your order is on its way" email again, with the carrier and tracking link, to the customer's
    current address. Nothing about the order changes. It only applies to an order that is shipped and has a
    tracking number: it is refused before the order ships, after it is delivered, and when the carrier has not
    given us a tracking number yet."""
    order = ctx.get("orders", order_id)
    if order["status"] in ("pending", "paid", "processing"):
        raise Refusal(f"order {order_id} has not shipped yet (status: {order['status']})")
    if order["status"] != "shipped":
        raise Refusal(f"order {order_id} is {order['status']}; the shipping email only helps while it is on its way")
    tracked = [shipment for shipment in ctx.find_all("shipments", order_id=order_id)
               if shipment["status"] == "shipped" and shipment["tracking_number"]]
    if not tracked:
        raise Refusal(f"order {order_id} has no tracking number yet; ask fulfilment for it")
    customer = ctx.get("customers", order["customer_id"])
    ctx.send_email(to=customer["email"], template="shipping_notification",
                   subject=f"Your order {order_id} is on its way", customer_id=customer["id"], order_id=order_id)
    numbers = ", ".join(f"{shipment['carrier'] or 'carrier'} {shipment['tracking_number']}" for shipment in tracked)
    verb = "Will queue" if ctx.is_preview else "Queued"  # a preview words what will happen
    return f"{verb} the shipping email for order {order_id} to {customer['email']} ({numbers})"
