"""A second product's package, written by hand: the SaaS of tests/product/saas.py with task plugins beside its
records, as another team would keep it. Its tests (test_*.py here) use the author kit only.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from console.product import BelongsTo, HasMany, Money, Record, mask
from tests.product import saas

RECORDS = [
    Record("accounts", title="{full_name} <{email}>", exact=["id", "email"], prefix=["email"], sort=["created_at"],
           customer="email",
           personal={"email": mask.email, "full_name": mask.name, "phone": mask.phone},
           related=[HasMany("subscriptions", via="account_id"), HasMany("invoices", via="account_id")]),
    Record("subscriptions", title="{plan} subscription {id}", exact=["id"],
           badges={"status": {"active": "success", "cancelled": "secondary"}},
           related=[BelongsTo("accounts", via="account_id"), HasMany("invoices", via="subscription_id")]),
    Record("invoices", title="Invoice {number}", exact=["id", "number"],
           money={"amount_cents": Money(currency_column="currency")},
           related=[BelongsTo("accounts", via="account_id"), BelongsTo("subscriptions", via="subscription_id")]),
]

# The product's tables for test databases: the SaaS's own, and the outbox its mailer sends from.
METADATA = MetaData()
for _table in saas.metadata.sorted_tables:
    _table.to_metadata(METADATA)
Table(
    "email_outbox", METADATA,
    Column("id", Integer, primary_key=True),
    # The console's outbox rows may name a customer (here, the account) and an order, which a SaaS has none of.
    Column("customer_id", Integer),
    Column("to_address", String(254), nullable=False),
    Column("template", String(60), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
)
EMAIL_TEMPLATES = ("plan_changed", "subscription_cancelled")

START = datetime(2026, 1, 1)


def demo_records(now: datetime) -> list[tuple[str, dict]]:
    """Two accounts: ada has an active team subscription and a cancelled one, bo an active starter one."""
    return [
        ("accounts", {"id": 1, "email": "ada@saas.example", "full_name": "Ada Client", "phone": None,
                      "company": "Firm", "created_at": START}),
        ("accounts", {"id": 2, "email": "bo@saas.example", "full_name": "Bo Client", "phone": None,
                      "company": None, "created_at": START}),
        ("subscriptions", {"id": 1, "account_id": 1, "plan": "team", "status": "active", "started_at": START}),
        ("subscriptions", {"id": 2, "account_id": 1, "plan": "starter", "status": "cancelled", "started_at": START}),
        ("subscriptions", {"id": 3, "account_id": 2, "plan": "starter", "status": "active", "started_at": START}),
    ]
