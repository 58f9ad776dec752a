from admin_tasks.shop_schema import OutboxEmail
from tests.factories import CustomerFactory


def test_resend_confirmation_email_queues_a_confirmation_to_the_account(desk, target_db):
    customer = CustomerFactory(unconfirmed=True)

    run = desk.run("resend_confirmation_email", email=customer.email)

    assert run.status == "succeeded"
    assert run.result == f"Queued a new confirmation email to {customer.email}"
    assert desk.outbox(customer_id=customer.id) == [(customer.email, "email_confirmation")]
    target_db.refresh(customer)
    assert customer.email_confirmed is False


def test_resend_confirmation_email_refuses_a_confirmed_address(desk):
    customer = CustomerFactory()

    assert desk.refusal("resend_confirmation_email", email=customer.email) == f"{customer.email} is already confirmed"
    assert desk.outbox(customer_id=customer.id) == []


def test_resend_confirmation_email_refuses_disabled_and_anonymized_accounts(desk):
    disabled = CustomerFactory(unconfirmed=True, status="disabled")
    anonymized = CustomerFactory(unconfirmed=True, status="anonymized")

    assert desk.refusal("resend_confirmation_email", email=disabled.email) == (
        f"{disabled.email} is disabled by the accounts team; escalate instead of emailing the customer")
    assert desk.refusal("resend_confirmation_email", email=anonymized.email) == (
        f"{anonymized.email} is anonymized: the account no longer exists")
    assert desk.outbox(customer_id=disabled.id) == desk.outbox(customer_id=anonymized.id) == []


def test_resend_confirmation_email_refuses_an_unknown_email(desk):
    assert "nobody@example.org" in desk.refusal("resend_confirmation_email", email="nobody@example.org")


def test_resend_confirmation_email_preview_lists_the_email_and_sends_nothing(desk):
    customer = CustomerFactory(unconfirmed=True)
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("resend_confirmation_email", email=customer.email)

    assert shown.changes == []
    [effect] = shown.effects
    assert customer.email in effect
    assert desk.count(OutboxEmail) == emails_before
