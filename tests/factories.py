"""factory-boy factories for both databases; they flush into the test's session, never commit."""
from __future__ import annotations

from datetime import timedelta

import factory

from admin_tasks.shop_schema import Customer, Order, OutboxEmail, Payment, Shipment
from console.auth.models import StaffUser
from console.auth.services import hash_password
from console.db import utcnow

_TEST_PASSWORD_HASH = None


def _password_hash() -> str:
    global _TEST_PASSWORD_HASH  # hashing with argon2 per factory call would slow every test
    if _TEST_PASSWORD_HASH is None:
        from tests.conftest import TEST_PASSWORD

        _TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)
    return _TEST_PASSWORD_HASH


SESSIONS: dict = {"console": None, "target": None}


def use_sessions(console, target) -> None:
    """Point the factories at the test's sessions (set by the `dbs` fixture)."""
    SESSIONS["console"] = console
    SESSIONS["target"] = target


def _console_session():
    return SESSIONS["console"]


def _target_session():
    return SESSIONS["target"]


class StaffUserFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = StaffUser
        sqlalchemy_session_factory = _console_session
        sqlalchemy_session_persistence = "flush"

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    name = factory.Sequence(lambda n: f"Staff Member {n}")
    role = "agent"
    team = "support"
    active = True
    password_hash = factory.LazyFunction(_password_hash)

    class Params:
        disabled = factory.Trait(active=False)


def letters(n: int) -> str:
    """A distinct word of capital letters for each n (0 -> A, 25 -> Z, 26 -> BA)."""
    word = ""
    while True:
        n, digit = divmod(n, 26)
        word = chr(ord("A") + digit) + word
        if n == 0:
            return word


class CustomerFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Customer
        sqlalchemy_session_factory = _target_session
        sqlalchemy_session_persistence = "flush"

    id = factory.Sequence(lambda n: 500_000 + n)
    email = factory.Sequence(lambda n: f"customer{n}@example.org")
    # Letters only: the shop declares its names a "name" kind (no digits), which searches rely on.
    name = factory.Sequence(lambda n: f"Customer {letters(n)}")
    status = "active"
    email_confirmed = True
    failed_login_count = 0
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)

    class Params:
        locked = factory.Trait(status="locked", failed_login_count=5)
        unconfirmed = factory.Trait(email_confirmed=False)


class OrderFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Order
        sqlalchemy_session_factory = _target_session
        sqlalchemy_session_persistence = "flush"

    id = factory.Sequence(lambda n: 9_000_000 + n)
    customer_id = factory.LazyAttribute(lambda o: CustomerFactory().id)
    status = "paid"
    currency = "EUR"
    total_cents = 5000
    refunded_cents = 0
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)
    status_changed_at = factory.LazyFunction(utcnow)

    class Params:
        shipped = factory.Trait(status="shipped")
        delivered = factory.Trait(status="delivered")
        stuck = factory.Trait(status="processing",
                              status_changed_at=factory.LazyFunction(lambda: utcnow() - timedelta(days=3)))


class PaymentFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Payment
        sqlalchemy_session_factory = _target_session
        sqlalchemy_session_persistence = "flush"

    id = factory.Sequence(lambda n: 9_000_000 + n)
    order_id = factory.LazyAttribute(lambda p: OrderFactory().id)
    amount_cents = 5000
    status = "captured"
    provider_ref = factory.Sequence(lambda n: f"pay_test_{n}")
    created_at = factory.LazyFunction(utcnow)


class ShipmentFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Shipment
        sqlalchemy_session_factory = _target_session
        sqlalchemy_session_persistence = "flush"

    id = factory.Sequence(lambda n: 9_000_000 + n)
    order_id = factory.LazyAttribute(lambda s: OrderFactory().id)
    status = "pending"
    recipient_name = "Customer Name"
    line1 = "1 Test Street"
    city = "Testville"
    postcode = "12345"
    country = "DE"


class OutboxEmailFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = OutboxEmail
        sqlalchemy_session_factory = _target_session
        sqlalchemy_session_persistence = "flush"

    # No explicit id: tasks and tests add outbox rows without one too, and on MySQL an explicit id moves
    # the table's AUTO_INCREMENT past it for good (a rollback keeps it), so the next automatic id would
    # be the factory's next one.
    customer_id = factory.LazyAttribute(lambda e: CustomerFactory().id)
    order_id = None
    to_address = "customer@example.org"
    template = "shipping_notification"
    subject = "Your order is on its way"
    created_at = factory.LazyFunction(utcnow)
    sent_at = factory.LazyFunction(utcnow)
