"""A product that is not the shop: inspected, served without edits, searched, masked, revealed, checked."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select

from console.audit.models import AuditEntry
from console.db import console_session
from console.product.cli import group
from tests.product import saas


def test_inspect_prints_the_package_path_last_and_refuses_to_overwrite(saas_product):
    assert Path(saas_product.output.splitlines()[-1]) == (saas_product.folder / saas_product.package).resolve()
    source = (saas_product.folder / saas_product.package / "records.py").read_text()
    compile(source, "records.py", "exec")
    assert "'email': mask.email" in source and "'phone': mask.phone" in source and "'full_name': mask.name" in source
    assert source.count("customer='email',") == 1 and source.index("'accounts',") < source.index("customer='email',")
    # Every phone number fits the kind; the names ("Ada Client7") hold digits, so they are given none.
    assert "holds={'phone': 'phone'}," in source
    assert "HasMany('invoices', via='account_id')" in source and "BelongsTo('accounts', via='account_id')" in source
    again = CliRunner().invoke(group, ["inspect", "--url", saas_product.urls["target"], "--package",
                                       saas_product.package, "--out", str(saas_product.folder)])
    assert again.exit_code != 0 and "already exists" in again.output


def test_init_leaves_the_product_database_alone_and_the_shop_tasks_unloaded(saas_product):
    assert saas_product.created is False
    engine = create_engine(saas_product.urls["target"])
    assert set(inspect(engine).get_table_names()) == {"accounts", "subscriptions", "invoices"}
    engine.dispose()
    registry = saas_product.app.extensions["task_registry"]
    assert saas_product.app.config["TASK_PACKAGES"] == [saas_product.package]
    assert "unlock_account" not in registry and len(registry) == 0


def test_the_records_api_serves_the_generated_package(saas_product):
    client, headers = saas_product.app.test_client(), saas_product.headers("agent")
    records = {r["name"]: r for r in client.get("/api/v1/records", headers=headers).get_json()["records"]}
    assert set(records) == {"accounts", "subscriptions", "invoices"}
    assert records["accounts"]["search"] == ["id", "email"]
    exact = client.get("/api/v1/records/accounts?q=acct07@saas.example", headers=headers).get_json()
    assert [item["key"] for item in exact["items"]] == [7]
    assert exact["items"][0]["fields"]["email"] == "ac•••7@s•••.example"
    first = client.get("/api/v1/records/accounts?q=acct", headers=headers).get_json()
    second = client.get(f"/api/v1/records/accounts?q=acct&after={first['next']}", headers=headers).get_json()
    assert len(first["items"]) == 25 and second["next"] is None
    assert [i["key"] for i in first["items"] + second["items"]] == list(range(1, saas.ACCOUNTS + 1))
    by_number = client.get("/api/v1/records/invoices?q=INV-0002", headers=headers).get_json()
    assert [item["key"] for item in by_number["items"]] == [2]


def test_detail_relates_both_ways_with_money_and_masks(saas_product):
    client, headers = saas_product.app.test_client(), saas_product.headers("agent")
    account = client.get("/api/v1/records/accounts/1", headers=headers).get_json()["record"]
    assert [i["key"] for i in account["related"]["invoices"]] == [3, 2, 1]
    assert [s["key"] for s in account["related"]["subscriptions"]] == [2, 1]
    assert account["fields"]["phone"] == "•••01" and account["fields"]["full_name"] == "A••• C•••"
    assert "acct01@saas.example" not in str(account) and account["tasks"] == []
    invoice = client.get("/api/v1/records/invoices/2", headers=headers).get_json()["record"]
    assert invoice["fields"]["amount_cents"] == {"cents": 9800, "currency": "GBP", "text": "GBP 98.00"}
    assert [a["key"] for a in invoice["related"]["accounts"]] == [1]
    assert [s["key"] for s in invoice["related"]["subscriptions"]] == [1]


def test_reveal_is_audited_and_refused_to_product_owners(saas_product):
    client = saas_product.app.test_client()
    refused = client.post("/api/v1/records/accounts/3/reveal", headers=saas_product.headers("product_owner"),
                          json={"reason": "just looking around"})
    assert refused.status_code == 403 and "acct03" not in refused.get_data(as_text=True)
    shown = client.post("/api/v1/records/accounts/3/reveal", headers=saas_product.headers("lead"),
                        json={"reason": "Customer called about an invoice"})
    assert shown.status_code == 200 and shown.get_json()["record"]["fields"]["email"] == "acct03@saas.example"
    with saas_product.app.app_context():
        entries = console_session().scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")).all()
        assert [(e.actor, e.subject_type, e.subject_id) for e in entries] == [
            (saas_product.email("lead"), "accounts", "3")]


def test_product_check_passes_on_the_generated_package(saas_product):
    result = CliRunner().invoke(group, ["check", "--url", saas_product.urls["target"],
                                        "--package", saas_product.package])
    assert result.exit_code == 0, result.output
    assert "3 records match the database" in result.output
