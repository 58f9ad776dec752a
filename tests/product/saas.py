"""A second product, unlike the shop: a SaaS with accounts, subscriptions and invoices, built in a target database."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, insert

metadata = MetaData()
accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("phone", String(40)),
    Column("company", String(200)),
    Column("created_at", DateTime, nullable=False, index=True),
)
subscriptions = Table(
    "subscriptions", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("plan", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", DateTime, nullable=False),
)
invoices = Table(
    "invoices", metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("subscription_id", ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("notes", Text),
    Column("issued_at", DateTime, nullable=False),
)
Index("ix_invoices_issued", invoices.c.issued_at)

ACCOUNTS = 30
START = datetime(2026, 1, 1)


def build(engine) -> None:
    """Create the tables and fill them: 30 accounts, the first with two subscriptions and three invoices."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [
            {"id": n, "email": f"acct{n:02d}@saas.example", "full_name": f"Ada Client{n}", "phone": f"+44 20 7946 09{n:02d}",
             "company": f"Firm {n}", "created_at": START + timedelta(days=n)} for n in range(1, ACCOUNTS + 1)])
        conn.execute(insert(subscriptions), [
            {"id": 1, "account_id": 1, "plan": "team", "status": "active", "started_at": START},
            {"id": 2, "account_id": 1, "plan": "starter", "status": "cancelled", "started_at": START},
            {"id": 3, "account_id": 2, "plan": "team", "status": "active", "started_at": START},
        ])
        conn.execute(insert(invoices), [
            {"id": n, "number": f"INV-{n:04d}", "account_id": 1, "subscription_id": 1, "amount_cents": 4900 * n,
             "currency": "GBP", "notes": None, "issued_at": START + timedelta(days=30 * n)} for n in range(1, 4)])
