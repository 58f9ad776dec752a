from admin_tasks.shop_schema import OutboxEmail
from tests.admin_tasks.conftest import change_to, changes_of
from tests.factories import CustomerFactory


def test_unlock_account_reactivates_the_account_and_resets_failed_sign_ins(desk, target_db):
    customer = CustomerFactory(locked=True, failed_login_count=7)

    run = desk.run("unlock_account", email=customer.email.upper())

    assert run.status == "succeeded"
    assert run.result == f"Unlocked {customer.email}; failed sign-ins reset from 7 to 0"
    target_db.refresh(customer)
    assert (customer.status, customer.failed_login_count) == ("active", 0)
    [change] = change_to(changes_of(run), "customers")
    assert (change["before"]["status"], change["after"]["status"]) == ("locked", "active")


def test_unlock_account_refuses_an_account_that_is_not_locked(desk, target_db):
    for status in ("active", "disabled", "anonymized"):
        customer = CustomerFactory(status=status, failed_login_count=2)

        assert desk.refusal("unlock_account", email=customer.email) == (
            f"{customer.email} is not locked (status: {status})")

        target_db.refresh(customer)
        assert (customer.status, customer.failed_login_count) == (status, 2)


def test_unlock_account_refuses_an_unknown_email(desk):
    assert "nobody@example.org" in desk.refusal("unlock_account", email="nobody@example.org")


def test_unlock_account_preview_shows_the_unlock_and_writes_nothing(desk, target_db):
    customer = CustomerFactory(locked=True)
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("unlock_account", email=customer.email)

    [change] = shown.changes
    assert change["table"] == "customers"
    assert {key: change["before"][key] for key in ("status", "failed_login_count")} == {"status": "locked",
                                                                                       "failed_login_count": 5}
    assert {key: change["after"][key] for key in ("status", "failed_login_count")} == {"status": "active",
                                                                                      "failed_login_count": 0}
    assert shown.effects == []
    target_db.refresh(customer)
    assert (customer.status, customer.failed_login_count) == ("locked", 5)
    assert desk.count(OutboxEmail) == emails_before


def test_undo_unlock_account_locks_the_account_again(desk, target_db):
    customer = CustomerFactory(locked=True, failed_login_count=6)
    run = desk.run("unlock_account", email=customer.email)

    undone = desk.undo(run)

    assert undone.status == "succeeded"
    target_db.refresh(customer)
    assert (customer.status, customer.failed_login_count) == ("locked", 6)


def test_undo_unlock_account_is_refused_once_the_account_changed_again(desk, target_db):
    customer = CustomerFactory(locked=True)
    run = desk.run("unlock_account", email=customer.email)
    customer.failed_login_count = 1  # the customer failed to sign in once more since
    target_db.flush()

    assert "changed" in desk.undo_refusal(run)

    target_db.refresh(customer)
    assert (customer.status, customer.failed_login_count) == ("active", 1)
