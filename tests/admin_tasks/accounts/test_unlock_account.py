from admin_tasks.shop_schema import OutboxEmail
from tests.factories import CustomerFactory


def _account(target_row, customer) -> tuple:
    row = target_row("customers", id=customer.id)
    return row["status"], row["failed_login_count"]


def test_unlock_account_reactivates_the_account_and_resets_failed_sign_ins(run_task, target_row):
    customer = CustomerFactory(locked=True, failed_login_count=7)

    run = run_task("unlock_account", email=customer.email.upper())

    assert run.status == "succeeded", run.error
    assert run.result == f"Unlocked {customer.email}; failed sign-ins reset from 7 to 0"
    assert _account(target_row, customer) == ("active", 0)
    [change] = run.changes_data
    assert (change["table"], change["before"]["status"], change["after"]["status"]) == (
        "customers", "locked", "active")


def test_unlock_account_refuses_an_account_that_is_not_locked(run_task, target_row):
    for status in ("active", "disabled", "anonymized"):
        customer = CustomerFactory(status=status, failed_login_count=2)

        run = run_task("unlock_account", email=customer.email)

        assert (run.status, run.error) == ("refused", f"{customer.email} is not locked (status: {status})")
        assert _account(target_row, customer) == (status, 2)


def test_unlock_account_refuses_an_unknown_email(run_task):
    run = run_task("unlock_account", email="nobody@example.org")

    assert (run.status, run.error) == ("refused", "no customer with email nobody@example.org")


def test_unlock_account_preview_shows_the_unlock_and_writes_nothing(preview_task, target_row, count_rows):
    customer = CustomerFactory(locked=True)
    emails = count_rows(OutboxEmail)

    shown = preview_task("unlock_account", email=customer.email)

    [change] = shown.changes
    assert change["table"] == "customers"
    assert (change["before"]["status"], change["before"]["failed_login_count"]) == ("locked", 5)
    assert (change["after"]["status"], change["after"]["failed_login_count"]) == ("active", 0)
    assert shown.effects == []
    assert _account(target_row, customer) == ("locked", 5)
    assert count_rows(OutboxEmail) == emails


def test_undo_unlock_account_locks_the_account_again(run_task, undo, target_row):
    customer = CustomerFactory(locked=True, failed_login_count=6)
    run = run_task("unlock_account", email=customer.email)

    assert undo(run).status == "succeeded"

    assert _account(target_row, customer) == ("locked", 6)


def test_undo_unlock_account_is_refused_once_the_account_changed_again(run_task, undo, target_row, target_db):
    customer = CustomerFactory(locked=True)
    run = run_task("unlock_account", email=customer.email)
    target_db.refresh(customer)
    customer.failed_login_count = 1  # the customer failed to sign in once more since
    target_db.flush()

    undone = undo(run)

    assert undone.status == "refused"
    assert "changed since the run" in undone.error
    assert _account(target_row, customer) == ("active", 1)


def test_unlock_account_on_the_demo_shop(demo_shop, run_task, target_row):
    assert run_task("unlock_account", email="alice@example.com").error == (
        "alice@example.com is not locked (status: active)")

    assert run_task("unlock_account", email="locked@example.com").status == "succeeded"
    assert target_row("customers", email="locked@example.com")["status"] == "active"
