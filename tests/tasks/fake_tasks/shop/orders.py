"""Order tasks: a refund with a risk rule, an undoable status change, and two that fail."""
from typing import Annotated, Literal

from console.tasks import Money, Param, Refusal, TaskContext, task


def fake_refund_risk(params: dict) -> str:
    """high above 10000 cents, otherwise medium"""
    return "high" if params["amount_cents"] > 10000 else "medium"


@task(title="Fake refund", category="Orders", risk=fake_refund_risk, undo_note="money has left",
      examples=[{"order_id": 1004, "amount_cents": 3000}])
def fake_refund(
    ctx: TaskContext,
    order_id: Annotated[int, Param("Order number", min=1)],
    amount_cents: Annotated[Money, Param("Amount", min=1, currency="EUR")],
) -> str:
    """Refund up to what is left of an order and email the customer."""
    order = ctx.get("orders", order_id, lock=True)
    left = order["total_cents"] - order["refunded_cents"]
    if amount_cents > left:
        raise Refusal(f"order {order_id} has only {left} cents left to refund")
    refunded = order["refunded_cents"] + amount_cents
    ctx.update("orders", order, refunded_cents=refunded, updated_at=ctx.now,
               status="refunded" if refunded == order["total_cents"] else order["status"])
    ctx.insert("refunds", order_id=order_id, amount_cents=amount_cents, reason=ctx.reason, created_at=ctx.now)
    customer = ctx.get("customers", order["customer_id"])
    ctx.send_email(to=customer["email"], template="refund_issued", subject=f"Refund on order {order_id}",
                   customer_id=customer["id"], order_id=order_id)
    return f"Refunded {amount_cents} cents on order {order_id}"


@task(title="Fake set status", category="Orders", risk="medium", undo=True)
def fake_set_status(
    ctx: TaskContext,
    order_id: Annotated[int, Param("Order number", min=1)],
    status: Literal["paid", "processing", "cancelled"],
) -> str:
    """Set an order's status (undoable with the generic undo)."""
    order = ctx.get("orders", order_id, lock=True)
    if order["status"] == status:
        raise Refusal(f"order {order_id} is already {status}")
    ctx.update("orders", order, status=status, status_changed_at=ctx.now)
    return f"Order {order_id} is {status}"


@task(title="Fake broken write", category="Orders")
def fake_broken_write(ctx: TaskContext, order_id: int) -> str:
    """Update an order, then insert a refund for an order that does not exist (a database error)."""
    order = ctx.get("orders", order_id)
    ctx.update("orders", order, refunded_cents=order["refunded_cents"] + 1)
    ctx.insert("refunds", order_id=2_000_000_000, amount_cents=1, reason="x", created_at=ctx.now)
    return "unreachable"


@task(title="Fake crash", category="Orders")
def fake_crash(ctx: TaskContext, order_id: int) -> str:
    """Update an order, then crash with a bug."""
    order = ctx.get("orders", order_id)
    ctx.update("orders", order, refunded_cents=order["refunded_cents"] + 1)
    raise RuntimeError("a bug in the task")
