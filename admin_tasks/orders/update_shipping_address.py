"""Correct the delivery address of an order before it ships."""
from typing import Annotated

from console.tasks import Param, Refusal, TaskContext, task

NOT_SHIPPED = ("pending", "paid", "processing")


def restore_address(ctx: TaskContext, run) -> str:
    """Put the previous address back on shipments that are still waiting at the warehouse."""
    for change in run.changes:
        if change["table"] != "shipments":
            continue
        shipment = ctx.get("shipments", change["key"], lock=True)
        if shipment["status"] != "pending":
            raise Refusal(f"order {shipment['order_id']} has shipped since run {run.id} (shipment: "
                          f"{shipment['status']}); only the carrier can redirect it")
        if any(shipment[column] != after for column, after in change["after"].items()):
            raise Refusal(f"the address of order {shipment['order_id']} changed again since run {run.id}")
        ctx.update("shipments", shipment, **change["before"])
    order = ctx.get("orders", run.params["order_id"])
    customer = ctx.get("customers", order["customer_id"])
    ctx.send_email(to=customer["email"], template="shipping_address_changed",
                   subject=f"The delivery address of your order {order['id']} has changed",
                   customer_id=customer["id"], order_id=order["id"])
    return f"Order {order['id']} ships to its previous address again"


@task(title="Update an order's shipping address", category="Orders", offered_on="orders", record_param="order_id",
      risk="medium", undo=restore_address,
      applies_when=lambda order: True if order["status"] in NOT_SHIPPED else f"the order is {order['status']}",
      reply=lambda params, result: f"We have changed the delivery address of your order {params['order_id']}; "
                                   f"you will receive a confirmation by email.",
      examples=[{"order_id": 1001, "recipient_name": "Alice Example", "line1": "Kastanienallee 5", "city": "Hamburg",
                 "postcode": "20095", "country": "DE"}])
def update_shipping_address(
    ctx: TaskContext,
    *,
    order_id: Annotated[int, Param("Order number", min=1)],
    recipient_name: Annotated[str, Param("Recipient name", max_length=200)],
    line1: Annotated[str, Param("Street and number", max_length=200)],
    line2: Annotated[str, Param("Address line 2", help="Flat, floor or c/o; leave empty if there is none.",
                                max_length=200)] = "",
    city: Annotated[str, Param("City", max_length=100)],
    postcode: Annotated[str, Param("Postcode", max_length=20)],
    country: Annotated[str, Param("Country", help="The two-letter code: DE, FR, NL.", pattern=r"^[A-Za-z]{2}$",
                                  max_length=2)],
) -> str:
    """Replace the whole delivery address of an order that has not shipped yet (pending, paid or processing),
    and email the customer about it, because a changed address is a common fraud pattern. Fill in every field,
    even those that do not change. The address lives on the order's shipment, which the shop creates once the
    order is paid; before that there is nothing to change yet, and the task says so rather than inventing a
    shipment. Shipped, delivered, cancelled and refunded orders are refused: once the parcel has left, only the
    carrier can redirect it. Undo puts the previous address back, as long as the order still has not shipped."""
    # The runner has already trimmed the text and turned blank required fields away.
    address = {"recipient_name": recipient_name, "line1": line1, "line2": line2 or None, "city": city,
               "postcode": postcode, "country": country.upper()}
    order = ctx.get("orders", order_id, lock=True)
    if order["status"] in ("shipped", "delivered"):
        raise Refusal(f"order {order_id} has already shipped (status: {order['status']}); "
                      f"only the carrier can redirect it")
    if order["status"] not in NOT_SHIPPED:
        raise Refusal(f"order {order_id} is {order['status']}; it will not ship")
    shipments = ctx.find_all("shipments", order_id=order_id, lock=True)
    pending = [shipment for shipment in shipments if shipment["status"] == "pending"]
    if not shipments:
        raise Refusal(f"order {order_id} has no shipment yet (status: {order['status']}); "
                      f"its address can be changed once it is paid")
    if not pending:
        raise Refusal(f"order {order_id} has already shipped (shipment: {shipments[0]['status']})")
    if all(all(shipment[field] == value for field, value in address.items()) for shipment in pending):
        raise Refusal(f"order {order_id} already ships to this address; nothing to change")

    for shipment in pending:
        ctx.update("shipments", shipment, **address)
    customer = ctx.get("customers", order["customer_id"])
    ctx.send_email(to=customer["email"], template="shipping_address_changed",
                   subject=f"The delivery address of your order {order_id} has changed",
                   customer_id=customer["id"], order_id=order_id)
    if ctx.is_preview:  # what will happen, not what happened
        return f"Order {order_id} will ship to {_one_line(address)}"
    return f"Order {order_id} now ships to {_one_line(address)}"


def _one_line(address: dict) -> str:
    parts = [address["recipient_name"], address["line1"], address["line2"],
             f"{address['postcode']} {address['city']}", address["country"]]
    return ", ".join(part for part in parts if part)
