"""Change the email address a customer signs in with."""
from typing import Annotated

from console.tasks import Email, Param, Refusal, TaskContext, task


@task(title="Change a customer's email address", category="Accounts", offered_on="customers", record_param="email",
      risk="medium", undo=True, sets_address="new_email",
      reply=lambda params, result: "We have changed the email address of your account. Please confirm the new "
                                   "address with the link we sent to it.",
      examples=[{"email": "alice@example.com", "new_email": "alice.new@example.com"}])
def change_email(
    ctx: TaskContext,
    email: Annotated[Email, Param("Current email", help="The address on the account today.", max_length=254)],
    new_email: Annotated[Email, Param("New email", help="Copy it from the customer's message rather than retyping it.",
                                      max_length=254)],
) -> str:
    """Replace the address the customer signs in with and receives every email at. The new address must be
    well formed and not used by another account. Both addresses are told: the old one gets a security notice,
    the new one a confirmation link. The new address counts as unconfirmed until the customer clicks that link,
    because nobody has proved yet that the mailbox is theirs; a mistyped address therefore cannot receive password
    resets for the account. Disabled and anonymized accounts are refused. Undo puts the old address back, as it was."""
    customer = ctx.get("customers", lock=True, email=email)
    if customer["status"] == "anonymized":
        raise Refusal(f"{email} is anonymized: the account no longer exists")
    if customer["status"] == "disabled":
        raise Refusal(f"{email} is disabled by the accounts team; escalate instead of changing it")
    if new_email == email:
        raise Refusal(f"{email} is already the account's address; nothing to change")
    holder = ctx.find("customers", email=new_email)
    if holder is not None:
        raise Refusal(f"{new_email} already belongs to another account (customer {holder['id']})")
    ctx.update("customers", customer, email=new_email, email_confirmed=False, updated_at=ctx.now)
    ctx.send_email(to=email, template="email_changed", subject="Your email address has been changed",
                   customer_id=customer["id"])
    ctx.send_email(to=new_email, template="email_confirmation", subject="Please confirm your new email address",
                   customer_id=customer["id"])
    if ctx.is_preview:  # what will happen, not what happened
        return f"Will change {email} to {new_email}; a confirmation link will go to the new address and a notice " \
               f"to the old one"
    return f"Changed {email} to {new_email}; a confirmation link went to the new address and a notice to the old one"
