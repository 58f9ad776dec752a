"""The SaaS's support tasks on subscriptions: cancel one, change its plan."""
from typing import Annotated, Literal

from console.tasks import Param, Refusal, TaskContext, task

PLANS = ("starter", "team", "enterprise")


def plan_risk(params: dict) -> str:
    """High when the new plan is enterprise (a contract), otherwise low."""
    return "high" if params["plan"] == "enterprise" else "low"


@task(title="Cancel a subscription", category="Subscriptions", offered_on="subscriptions",
      record_param="subscription_id", undo=True, examples=[{"subscription_id": 1}])
def cancel_subscription(
    ctx: TaskContext,
    subscription_id: Annotated[int, Param("Subscription", min=1)],
) -> str:
    """Cancel an active subscription at once and email the account's owner. A cancelled one is refused."""
    subscription = ctx.get("subscriptions", subscription_id, lock=True)
    if subscription["status"] != "active":
        raise Refusal(f"subscription {subscription_id} is not active (status: {subscription['status']})")
    ctx.update("subscriptions", subscription, status="cancelled")
    account = ctx.get("accounts", subscription["account_id"])
    ctx.send_email(to=account["email"], template="subscription_cancelled", subject="Your subscription is cancelled",
                   customer_id=account["id"])
    return f"Cancelled subscription {subscription_id}"


@task(title="Change a subscription's plan", category="Subscriptions", offered_on="subscriptions",
      record_param="subscription_id", risk=plan_risk, examples=[{"subscription_id": 3, "plan": "team"}])
def change_plan(
    ctx: TaskContext,
    subscription_id: Annotated[int, Param("Subscription", min=1)],
    plan: Annotated[Literal[PLANS], Param("New plan")],
) -> str:
    """Move an active subscription to another plan; a move to enterprise needs a lead's approval."""
    subscriptions = ctx.find_all("subscriptions", id=subscription_id, status="active", lock=True, limit=1)
    if not subscriptions:
        raise Refusal(f"subscription {subscription_id} is not an active subscription")
    [subscription] = subscriptions
    if subscription["plan"] == plan:
        raise Refusal(f"subscription {subscription_id} is already on the {plan} plan")
    ctx.update("subscriptions", subscription, plan=plan)
    account = ctx.get("accounts", subscription["account_id"])
    ctx.send_email(to=account["email"], template="plan_changed", subject=f"Your plan is now {plan}",
                   customer_id=account["id"])
    return f"Moved subscription {subscription_id} from {subscription['plan']} to {plan}"
