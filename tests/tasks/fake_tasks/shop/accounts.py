"""Account tasks: undo (generic and custom), secrets, approval-only roles, redaction, every parameter type."""
import enum
from datetime import date
from typing import Annotated, Literal

from console.tasks import Email, Param, Refusal, Secret, TaskContext, task


def relock(ctx: TaskContext, run) -> str:
    """Lock the account again, unless it signed in since (a custom undo)."""
    [change] = run.changes
    customer = ctx.get("customers", change["key"], lock=True)
    if customer["status"] != "active":
        raise Refusal(f"customer {customer['email']} is {customer['status']} now")
    ctx.update("customers", customer, **change["before"])
    return f"Locked {customer['email']} again (undo of run {run.id})"


@task(title="Fake unlock", category="Accounts", undo=True)
def fake_unlock(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Unlock a locked account."""
    customer = ctx.get("customers", email=email, lock=True)
    if customer["status"] != "locked":
        raise Refusal(f"{email} is not locked")
    ctx.update("customers", customer, status="active", failed_login_count=0)
    return f"Unlocked {email}"


@task(title="Fake unlock, custom undo", category="Accounts", undo=relock, name="fake_unlock_custom")
def fake_unlock_custom_undo(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Unlock a locked account; the undo is the task's own."""
    return fake_unlock(ctx, email)


@task(title="Fake high-risk disable", category="Accounts", risk="high", roles=("agent", "lead", "admin"))
def fake_disable(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Disable an account (high risk: a second person approves)."""
    customer = ctx.get("customers", email=email, lock=True)
    if customer["status"] == "disabled":
        raise Refusal(f"{email} is already disabled")
    ctx.update("customers", customer, status="disabled", updated_at=ctx.now)
    return f"Disabled {email}"


@task(title="Fake lead-only", category="Accounts", roles=("lead", "admin"))
def fake_lead_only(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Only leads and admins may run this."""
    ctx.get("customers", email=email)
    return "ok"


@task(title="Fake erase", category="Accounts", risk="medium", redact_before=True)
def fake_erase(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Scrub the name and phone of an account."""
    customer = ctx.get("customers", email=email, lock=True)
    ctx.update("customers", customer, name="erased", phone=None)
    return "erased"


@task(title="Fake secret", category="Accounts")
def fake_secret(
    ctx: TaskContext,
    email: Annotated[Email, Param("Customer email")],
    token: Annotated[Secret, Param("One-time token", max_length=64)],
) -> str:
    """Check a token against an account (the token must never be stored)."""
    ctx.get("customers", email=email)
    return f"token of {len(token)} characters accepted"


class Tier(enum.Enum):
    BASIC = "basic"
    GOLD = "gold"


@task(title="Fake every type", category="Other", undo_note="it changes nothing")
def fake_every_type(
    ctx: TaskContext,
    note: Annotated[str, Param("Note", help="Free text", max_length=20, pattern=r"[a-z ]+")],
    count: Annotated[int, Param("Count", min=1, max=5)],
    flag: bool,
    day: Annotated[date, Param("Day", min=date(2020, 1, 1))],
    tier: Tier,
    size: Literal["s", "m", "l"] = "m",
    *,
    nickname: str | None = None,
) -> str:
    """Change nothing; echo the typed parameters."""
    return f"{note}|{count}|{flag}|{day.isoformat()}|{tier.name}|{size}|{nickname}"


@task(title="Fake change email", category="Accounts", risk="medium", sets_address="new_email")
def fake_change_email(ctx: TaskContext, email: Annotated[Email, Param("Current email")],
                      new_email: Annotated[Email, Param("New email")]) -> str:
    """Give an account a new address (it sets the address that resets go to)."""
    customer = ctx.get("customers", email=email, lock=True)
    ctx.update("customers", customer, email=new_email)
    return f"Changed {email} to {new_email}"


@task(title="Fake reset", category="Accounts", sends_to_address="email")
def fake_reset(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Mail a password reset link to the account's address."""
    customer = ctx.get("customers", email=email, lock=True)
    ctx.send_email(to=email, template="password_reset", subject="Reset", customer_id=customer["id"])
    return f"Reset sent to {email}"
