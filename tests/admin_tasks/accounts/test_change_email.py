import pytest

from admin_tasks.shop_schema import OutboxEmail
from console.tasks.runner import TaskError
from tests.factories import CustomerFactory


def _email(target_row, customer) -> tuple:
    row = target_row("customers", id=customer.id)
    return row["email"], row["email_confirmed"]


def test_change_email_moves_the_account_and_notifies_both_addresses(run_task, outbox, target_row):
    customer = CustomerFactory(email="old@example.org")

    run = run_task("change_email", email="old@example.org", new_email="New.Address@Example.org")

    assert run.status == "succeeded", run.error
    assert _email(target_row, customer) == ("new.address@example.org", False)
    assert outbox(customer_id=customer.id) == [("old@example.org", "email_changed"),
                                               ("new.address@example.org", "email_confirmation")]
    [change] = run.changes_data
    assert (change["before"]["email"], change["after"]["email"]) == ("old@example.org", "new.address@example.org")


def test_change_email_refuses_an_address_used_by_another_account(run_task, outbox, target_row):
    customer = CustomerFactory(email="old@example.org")
    holder = CustomerFactory(email="taken@example.org")

    run = run_task("change_email", email="old@example.org", new_email="taken@example.org")

    assert (run.status, run.error) == (
        "refused", f"taken@example.org already belongs to another account (customer {holder.id})")
    assert _email(target_row, customer) == ("old@example.org", True)
    assert outbox(customer_id=customer.id) == []


def test_change_email_refuses_the_same_address(run_task):
    CustomerFactory(email="same@example.org")

    run = run_task("change_email", email="same@example.org", new_email="SAME@example.org")

    assert (run.status, run.error) == (
        "refused", "same@example.org is already the account's address; nothing to change")


def test_change_email_refuses_disabled_and_anonymized_accounts(run_task, target_row):
    disabled = CustomerFactory(status="disabled")
    anonymized = CustomerFactory(status="anonymized")

    assert run_task("change_email", email=disabled.email, new_email="fresh1@example.org").error == (
        f"{disabled.email} is disabled by the accounts team; escalate instead of changing it")
    assert run_task("change_email", email=anonymized.email, new_email="fresh2@example.org").error == (
        f"{anonymized.email} is anonymized: the account no longer exists")
    assert _email(target_row, disabled)[0] == disabled.email


def test_change_email_refuses_an_unknown_account(run_task):
    run = run_task("change_email", email="nobody@example.org", new_email="fresh@example.org")

    assert (run.status, run.error) == ("refused", "no customer with email nobody@example.org")


def test_change_email_rejects_a_malformed_new_address(run_task, target_row):
    customer = CustomerFactory()

    with pytest.raises(TaskError) as invalid:
        run_task("change_email", email=customer.email, new_email="not-an-address")

    assert (invalid.value.status, set(invalid.value.fields)) == (400, {"new_email"})
    assert _email(target_row, customer) == (customer.email, True)


def test_change_email_preview_shows_old_and_new_address_and_writes_nothing(preview_task, target_row, count_rows):
    customer = CustomerFactory(email="old@example.org")
    emails = count_rows(OutboxEmail)

    shown = preview_task("change_email", email="old@example.org", new_email="new@example.org")

    [change] = shown.changes
    assert (change["before"]["email"], change["after"]["email"]) == ("old@example.org", "new@example.org")
    assert (change["before"]["email_confirmed"], change["after"]["email_confirmed"]) == (True, False)
    assert shown.effects == ["email 'email_changed' to old@example.org",
                             "email 'email_confirmation' to new@example.org"]
    assert _email(target_row, customer) == ("old@example.org", True)
    assert count_rows(OutboxEmail) == emails


def test_undo_change_email_puts_the_old_address_back(run_task, undo, target_row):
    customer = CustomerFactory(email="old@example.org")
    run = run_task("change_email", email="old@example.org", new_email="new@example.org")

    assert undo(run).status == "succeeded"

    assert _email(target_row, customer) == ("old@example.org", True)


def test_change_email_on_the_demo_shop(demo_shop, run_task, target_row):
    assert run_task("change_email", email="alice@example.com", new_email="locked@example.com").error == (
        "locked@example.com already belongs to another account (customer 1)")

    assert run_task("change_email", email="alice@example.com", new_email="alice.new@example.com").status == (
        "succeeded")
    assert target_row("customers", id=3)["email"] == "alice.new@example.com"
