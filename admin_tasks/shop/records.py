"""What support looks up in the demo shop: customers, their orders, and everything that hangs off an order."""
from console.product import BelongsTo, HasMany, Money, Record, mask

ORDER_MONEY = Money(currency_column="currency")
# Items, payments and refunds carry no currency of their own; the shop sells in euros.
SHOP_MONEY = Money(currency="EUR")
STATUS_TONES = {"active": "success", "locked": "danger", "disabled": "secondary", "anonymized": "secondary"}
ORDER_TONES = {"pending": "warning", "paid": "info", "processing": "info", "shipped": "info",
               "delivered": "success", "cancelled": "secondary", "refunded": "secondary"}

RECORDS = [
    Record(
        "customers", label="Customers", key="id", title="{name} <{email}>", customer="email",
        exact=["id", "email"], prefix=["email"], substring=["email", "name", "phone"],
        columns=["id", "email", "name", "status", "email_confirmed", "failed_login_count", "created_at"],
        sort=["created_at"],
        personal={"email": mask.email, "name": mask.name, "phone": mask.phone},
        holds={"name": "name", "phone": "phone"},
        badges={"status": STATUS_TONES},
        related=[HasMany("orders", via="customer_id"), HasMany("outbox_emails", via="customer_id")],
    ),
    Record(
        "orders", label="Orders", key="id", title="Order {id}", exact=["id"],
        columns=["id", "customer_id", "status", "currency", "total_cents", "refunded_cents", "created_at"],
        sort=["created_at", "total_cents"],
        money={"total_cents": ORDER_MONEY, "refunded_cents": ORDER_MONEY},
        badges={"status": ORDER_TONES},
        related=[BelongsTo("customers", via="customer_id"), HasMany("order_items", via="order_id"),
                 HasMany("payments", via="order_id"), HasMany("refunds", via="order_id"),
                 HasMany("shipments", via="order_id"), HasMany("outbox_emails", via="order_id")],
    ),
    Record(
        "order_items", label="Order items", title="{quantity} × {name}", exact=["id"],
        money={"unit_price_cents": SHOP_MONEY}, related=[BelongsTo("orders", via="order_id")],
    ),
    Record(
        "payments", label="Payments", title="Payment {provider_ref}", exact=["id"],
        money={"amount_cents": SHOP_MONEY}, related=[BelongsTo("orders", via="order_id")],
    ),
    Record(
        "refunds", label="Refunds", title="Refund {id}", exact=["id"],
        money={"amount_cents": SHOP_MONEY}, related=[BelongsTo("orders", via="order_id")],
    ),
    Record(
        "shipments", label="Shipments", title="Shipment {id}", exact=["id"], substring=["postcode", "tracking_number"],
        personal={"recipient_name": mask.name, "line1": mask.text, "line2": mask.text, "postcode": mask.postcode},
        badges={"status": {"pending": "warning", "shipped": "info", "delivered": "success", "returned": "danger"}},
        related=[BelongsTo("orders", via="order_id")],
    ),
    Record(
        "outbox_emails", table="email_outbox", label="Emails sent", noun="Email", title="{template}: {subject}",
        exact=["id"],
        columns=["id", "customer_id", "order_id", "to_address", "template", "subject", "created_at", "sent_at"],
        personal={"to_address": mask.email},
        related=[BelongsTo("customers", via="customer_id"), BelongsTo("orders", via="order_id")],
    ),
]
