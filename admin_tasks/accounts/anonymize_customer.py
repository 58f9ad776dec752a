"""Erase a customer's personal data on request, keeping the order records that accounting needs."""
from typing import Annotated

from console.tasks import Email, Param, Refusal, TaskContext, task

# Orders that still need the name and address: to deliver them, or to take them back.
OPEN_ORDER_STATUSES = ("pending", "paid", "processing", "shipped")
ERASED = "[erased]"


@task(title="Anonymize a customer (erasure request)", category="Accounts", offered_on="customers", record_param="email",
      risk="high", redact_before=True,
      applies_when=lambda customer: "it is already anonymized" if customer["status"] == "anonymized" else True,
      reply=lambda params, result: "We have erased your personal data from our shop, as you asked.",
      examples=[{"email": "locked@example.com"}],
      undo_note="Anonymizing cannot be undone: the point of an erasure is that no copy of the personal data is "
                "kept to restore it from.")
def anonymize_customer(
    ctx: TaskContext,
    email: Annotated[Email, Param("Customer email", help="The account's address; the request must come from it.")],
) -> str:
    """Answer a request to delete an account and its data. The name, email address and phone number are
    scrubbed, as are the name, street, city, postcode and tracking number on every shipment and the address on
    every email sent to the customer. The account becomes anonymized and can never sign in again, and the email
    address is free for a new account. Orders, their totals, payments and refunds stay, without anyone's name,
    because accounting must keep them; the shipping country stays for the tax records. It is refused while an
    order is still pending, paid, processing or shipped (we need the address to deliver it), for disabled
    accounts (the accounts team may need them for a fraud or chargeback case) and for accounts already
    anonymized. A lead must approve every run."""
    customer = ctx.get("customers", lock=True, email=email)
    if customer["status"] == "anonymized":
        raise Refusal(f"{email} is already anonymized")
    if customer["status"] == "disabled":
        raise Refusal(f"{email} is disabled by the accounts team; send the erasure request to the privacy team")
    orders = ctx.find_all("orders", customer_id=customer["id"])
    still_open = [order for order in orders if order["status"] in OPEN_ORDER_STATUSES]
    if still_open:
        listed = ", ".join(f"{order['id']} ({order['status']})" for order in still_open)
        raise Refusal(f"{email} has open orders: {listed}; erase once they are delivered, cancelled or refunded")

    anonymous_address = f"anonymized-{customer['id']}@invalid"
    ctx.update("customers", customer, email=anonymous_address, name="Anonymized customer", phone=None,
               status="anonymized", email_confirmed=False, failed_login_count=0, updated_at=ctx.now)
    shipments = 0
    for order in orders:
        for shipment in ctx.find_all("shipments", order_id=order["id"]):
            ctx.update("shipments", shipment, recipient_name=ERASED, line1=ERASED, line2=None, city=ERASED,
                       postcode=ERASED, tracking_number=None)
            shipments += 1
    emails = ctx.find_all("email_outbox", customer_id=customer["id"])
    for sent in emails:
        ctx.update("email_outbox", sent, to_address=anonymous_address)
    counts = (_count(len(orders), 'order'), _count(shipments, 'shipment'), _count(len(emails), 'email'))
    if ctx.is_preview:  # what will happen, not what happened
        return (f"Will anonymize customer {customer['id']}: will keep {counts[0]} for accounting, and erase the "
                f"address on {counts[1]} and {counts[2]}")
    return (f"Anonymized customer {customer['id']}: kept {counts[0]} for accounting, erased "
            f"the address on {counts[1]} and {counts[2]}")


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"

