from admin_tasks.shop_schema import OutboxEmail
from tests.factories import CustomerFactory


def test_resend_confirmation_email_queues_a_confirmation_to_the_account(run_task, outbox, target_row):
    customer = CustomerFactory(unconfirmed=True)

    run = run_task("resend_confirmation_email", email=customer.email)

    assert run.status == "succeeded", run.error
    assert run.result == f"Queued a new confirmation email to {customer.email}"
    assert outbox(customer_id=customer.id) == [(customer.email, "email_confirmation")]
    assert run.changes_data == []
    assert target_row("customers", id=customer.id)["email_confirmed"] is False


def test_resend_confirmation_email_refuses_a_confirmed_address(run_task, outbox):
    customer = CustomerFactory()

    run = run_task("resend_confirmation_email", email=customer.email)

    assert (run.status, run.error) == ("refused", f"{customer.email} is already confirmed")
    assert outbox(customer_id=customer.id) == []


def test_resend_confirmation_email_refuses_disabled_and_anonymized_accounts(run_task, outbox):
    disabled = CustomerFactory(unconfirmed=True, status="disabled")
    anonymized = CustomerFactory(unconfirmed=True, status="anonymized")

    assert run_task("resend_confirmation_email", email=disabled.email).error == (
        f"{disabled.email} is disabled by the accounts team; escalate instead of emailing the customer")
    assert run_task("resend_confirmation_email", email=anonymized.email).error == (
        f"{anonymized.email} is anonymized: the account no longer exists")
    assert outbox(customer_id=disabled.id) == outbox(customer_id=anonymized.id) == []


def test_resend_confirmation_email_refuses_an_unknown_email(run_task):
    run = run_task("resend_confirmation_email", email="nobody@example.org")

    assert (run.status, run.error) == ("refused", "no customer with email nobody@example.org")


def test_resend_confirmation_email_preview_lists_the_email_and_sends_nothing(preview_task, count_rows):
    customer = CustomerFactory(unconfirmed=True)
    emails = count_rows(OutboxEmail)

    shown = preview_task("resend_confirmation_email", email=customer.email)

    assert shown.changes == []
    assert shown.effects == [f"email 'email_confirmation' to {customer.email}"]
    assert count_rows(OutboxEmail) == emails


def test_resend_confirmation_email_on_the_demo_shop(demo_shop, run_task, outbox):
    assert run_task("resend_confirmation_email", email="alice@example.com").error == (
        "alice@example.com is already confirmed")

    assert run_task("resend_confirmation_email", email="unconfirmed@example.com").status == "succeeded"
    assert outbox(to_address="unconfirmed@example.com") == [("unconfirmed@example.com", "email_confirmation")]
