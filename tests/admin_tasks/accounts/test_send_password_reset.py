from admin_tasks.shop_schema import OutboxEmail
from tests.factories import CustomerFactory


def test_send_password_reset_queues_a_reset_email_to_the_account(desk, target_db):
    customer = CustomerFactory()

    run = desk.run("send_password_reset", email=customer.email)

    assert run.status == "succeeded"
    assert run.result == f"Queued a password reset email to {customer.email}"
    assert desk.outbox(customer_id=customer.id) == [(customer.email, "password_reset")]


def test_send_password_reset_refuses_accounts_a_new_password_would_not_open(desk):
    cases = {
        CustomerFactory(status="disabled"): (
            "is disabled by the accounts team; escalate instead of emailing the customer"),
        CustomerFactory(status="anonymized"): "is anonymized: the account no longer exists",
        CustomerFactory(locked=True): "is locked; unlock it first, or the new password will not help",
        CustomerFactory(unconfirmed=True): "is not confirmed; resend the confirmation email instead",
    }
    for customer, rule in cases.items():
        assert desk.refusal("send_password_reset", email=customer.email) == f"{customer.email} {rule}"
        assert desk.outbox(customer_id=customer.id) == []


def test_send_password_reset_refuses_an_unknown_email(desk):
    assert "nobody@example.org" in desk.refusal("send_password_reset", email="nobody@example.org")


def test_send_password_reset_preview_lists_the_email_and_sends_nothing(desk):
    customer = CustomerFactory()
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("send_password_reset", email=customer.email)

    assert shown.changes == []
    [effect] = shown.effects
    assert customer.email in effect
    assert desk.count(OutboxEmail) == emails_before
