from admin_tasks.shop_schema import OutboxEmail
from tests.factories import CustomerFactory


def test_send_password_reset_queues_a_reset_email_to_the_account(run_task, outbox):
    customer = CustomerFactory()

    run = run_task("send_password_reset", email=customer.email)

    assert run.status == "succeeded", run.error
    assert run.result == f"Queued a password reset email to {customer.email}"
    assert outbox(customer_id=customer.id) == [(customer.email, "password_reset")]


def test_send_password_reset_refuses_accounts_a_new_password_would_not_open(run_task, outbox):
    rules = [
        (CustomerFactory(status="disabled"),
         "is disabled by the accounts team; escalate instead of emailing the customer"),
        (CustomerFactory(status="anonymized"), "is anonymized: the account no longer exists"),
        (CustomerFactory(locked=True), "is locked; unlock it first, or the new password will not help"),
        (CustomerFactory(unconfirmed=True), "is not confirmed; resend the confirmation email instead"),
    ]
    for customer, rule in rules:
        run = run_task("send_password_reset", email=customer.email)

        assert (run.status, run.error) == ("refused", f"{customer.email} {rule}")
        assert outbox(customer_id=customer.id) == []


def test_send_password_reset_refuses_an_unknown_email(run_task):
    run = run_task("send_password_reset", email="nobody@example.org")

    assert (run.status, run.error) == ("refused", "no customer with email nobody@example.org")


def test_send_password_reset_preview_lists_the_email_and_sends_nothing(preview_task, count_rows):
    customer = CustomerFactory()
    emails = count_rows(OutboxEmail)

    shown = preview_task("send_password_reset", email=customer.email)

    assert (shown.changes, shown.effects) == ([], [f"email 'password_reset' to {customer.email}"])
    assert count_rows(OutboxEmail) == emails


def test_send_password_reset_on_the_demo_shop(demo_shop, run_task, outbox):
    assert run_task("send_password_reset", email="locked@example.com").status == "refused"

    assert run_task("send_password_reset", email="alice@example.com").status == "succeeded"
    assert outbox(to_address="alice@example.com") == [("alice@example.com", "password_reset")]
