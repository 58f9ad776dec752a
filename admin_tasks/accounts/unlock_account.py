"""Unlock a customer account that the shop locked after failed sign-ins."""
from typing import Annotated

from console.tasks import Email, Param, Refusal, TaskContext, task


@task(title="Unlock a customer account", category="Accounts", offered_on="customers", record_param="email",
      risk="low", undo=True,
      applies_when=lambda customer: True if customer["status"] == "locked" else f"the account is {customer['status']}",
      reply=lambda params, result: "We have unlocked your account: you can sign in again now.",
      examples=[{"email": "locked@example.com"}])
def unlock_account(
    ctx: TaskContext,
    email: Annotated[Email, Param("Customer email", help="The address the customer signs in with.")],
) -> str:
    """Unlock an account that the shop locked after five failed sign-ins in a row: the status goes back to
    active and the failed sign-in count to 0, so the customer can sign in again at once. Only a locked account
    can be unlocked; a disabled or anonymized one is refused, because the accounts team or the customer closed
    it on purpose. Undo locks the account again with its old count."""
    customer = ctx.get("customers", lock=True, email=email)
    if customer["status"] != "locked":
        raise Refusal(f"{email} is not locked (status: {customer['status']})")
    failed = customer["failed_login_count"]
    ctx.update("customers", customer, status="active", failed_login_count=0, updated_at=ctx.now)
    if ctx.is_preview:  # what will happen, not what happened
        return f"Will unlock {email}; failed sign-ins will be reset from {failed} to 0"
    return f"Unlocked {email}; failed sign-ins reset from {failed} to 0"
