from admin_tasks.shop_schema import OutboxEmail
from tests.admin_tasks.conftest import change_to, changes_of
from tests.factories import CustomerFactory


def test_change_email_moves_the_account_and_notifies_both_addresses(desk, target_db):
    customer = CustomerFactory(email="old@example.org")

    run = desk.run("change_email", email="old@example.org", new_email="New.Address@Example.org")

    assert run.status == "succeeded"
    target_db.refresh(customer)
    assert (customer.email, customer.email_confirmed) == ("new.address@example.org", False)
    assert desk.outbox(customer_id=customer.id) == [("old@example.org", "email_changed"),
                                                    ("new.address@example.org", "email_confirmation")]
    [change] = change_to(changes_of(run), "customers")
    assert (change["before"]["email"], change["after"]["email"]) == ("old@example.org", "new.address@example.org")


def test_change_email_refuses_an_address_used_by_another_account(desk, target_db):
    customer = CustomerFactory(email="old@example.org")
    holder = CustomerFactory(email="taken@example.org")

    assert desk.refusal("change_email", email="old@example.org", new_email="taken@example.org") == (
        f"taken@example.org already belongs to another account (customer {holder.id})")

    target_db.refresh(customer)
    assert customer.email == "old@example.org"
    assert desk.outbox(customer_id=customer.id) == []


def test_change_email_refuses_the_same_address(desk):
    CustomerFactory(email="same@example.org")

    assert desk.refusal("change_email", email="same@example.org", new_email="SAME@example.org") == (
        "same@example.org is already the account's address; nothing to change")


def test_change_email_refuses_disabled_and_anonymized_accounts(desk, target_db):
    disabled = CustomerFactory(status="disabled")
    anonymized = CustomerFactory(status="anonymized")

    assert desk.refusal("change_email", email=disabled.email, new_email="fresh1@example.org") == (
        f"{disabled.email} is disabled by the accounts team; escalate instead of changing it")
    assert desk.refusal("change_email", email=anonymized.email, new_email="fresh2@example.org") == (
        f"{anonymized.email} is anonymized: the account no longer exists")


def test_change_email_refuses_an_unknown_account(desk):
    assert "nobody@example.org" in desk.refusal("change_email", email="nobody@example.org",
                                                new_email="fresh@example.org")


def test_change_email_rejects_a_malformed_new_address(desk, target_db):
    customer = CustomerFactory()

    fields = desk.invalid_fields("change_email", email=customer.email, new_email="not-an-address")

    assert set(fields) == {"new_email"}
    target_db.refresh(customer)
    assert customer.email.endswith("@example.org")


def test_change_email_preview_shows_old_and_new_address_and_writes_nothing(desk, target_db):
    customer = CustomerFactory(email="old@example.org")
    emails_before = desk.count(OutboxEmail)

    shown = desk.preview("change_email", email="old@example.org", new_email="new@example.org")

    [change] = shown.changes
    assert (change["before"]["email"], change["after"]["email"]) == ("old@example.org", "new@example.org")
    assert (change["before"]["email_confirmed"], change["after"]["email_confirmed"]) == (True, False)
    assert len(shown.effects) == 2
    assert "old@example.org" in shown.effects[0] and "new@example.org" in shown.effects[1]
    target_db.refresh(customer)
    assert customer.email == "old@example.org"
    assert desk.count(OutboxEmail) == emails_before


def test_undo_change_email_puts_the_old_address_back(desk, target_db):
    customer = CustomerFactory(email="old@example.org")
    run = desk.run("change_email", email="old@example.org", new_email="new@example.org")

    assert desk.undo(run).status == "succeeded"

    target_db.refresh(customer)
    assert (customer.email, customer.email_confirmed) == ("old@example.org", True)
