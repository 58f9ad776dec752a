"""Send a customer a password reset link."""
from typing import Annotated

from console.tasks import Email, Param, Refusal, TaskContext, task


@task(title="Send a password reset", category="Accounts", offered_on="customers", record_param="email",
      risk="low", sends_to_address="email",
      reply=lambda params, result: "We have sent you a link to choose a new password; it may take a few minutes "
                                   "to arrive (check your spam folder too).",
      examples=[{"email": "alice@example.com"}])
def send_password_reset(
    ctx: TaskContext,
    email: Annotated[Email, Param("Customer email", help="The address on the account; the link only ever goes there.")],
) -> str:
    """Queue a password reset email to the address on the account; its link replaces any older one. Support
    never sets or tells a password. It is refused for disabled and anonymized accounts, and while the account is
    locked or its email is unconfirmed, because a new password would not let the customer in: unlock the account
    or resend the confirmation email instead."""
    customer = ctx.get("customers", email=email)
    status = customer["status"]
    if status == "anonymized":
        raise Refusal(f"{email} is anonymized: the account no longer exists")
    if status == "disabled":
        raise Refusal(f"{email} is disabled by the accounts team; escalate instead of emailing the customer")
    if status == "locked":
        raise Refusal(f"{email} is locked; unlock it first, or the new password will not help")
    if not customer["email_confirmed"]:
        raise Refusal(f"{email} is not confirmed; resend the confirmation email instead")
    ctx.send_email(to=email, template="password_reset", subject="Reset your password", customer_id=customer["id"])
    return f"{'Will queue' if ctx.is_preview else 'Queued'} a password reset email to {email}"
