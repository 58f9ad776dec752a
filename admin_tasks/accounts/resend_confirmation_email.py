"""Send a customer a new link to confirm their email address."""
from typing import Annotated

from console.tasks import Email, Param, Refusal, TaskContext, task


@task(title="Resend the confirmation email", category="Accounts", offered_on="customers", record_param="email",
      risk="low", sends_to_address="email",
      reply=lambda params, result: "We have sent you the confirmation email again; please open the link in it.",
      examples=[{"email": "unconfirmed@example.com"}])
def resend_confirmation_email(
    ctx: TaskContext,
    email: Annotated[Email, Param("Customer email", help="The address the customer registered with.")],
) -> str:
    """Queue a new "please confirm your email address" message to the address on the account; its link
    replaces any older one. Nothing else about the account changes. It is refused when the address is
    already confirmed (a new link would not help) and for disabled or anonymized accounts."""
    customer = ctx.get("customers", email=email)
    if customer["status"] == "anonymized":
        raise Refusal(f"{email} is anonymized: the account no longer exists")
    if customer["status"] == "disabled":
        raise Refusal(f"{email} is disabled by the accounts team; escalate instead of emailing the customer")
    if customer["email_confirmed"]:
        raise Refusal(f"{email} is already confirmed")
    ctx.send_email(to=email, template="email_confirmation", subject="Please confirm your email address",
                   customer_id=customer["id"])
    return f"{'Will queue' if ctx.is_preview else 'Queued'} a new confirmation email to {email}"
