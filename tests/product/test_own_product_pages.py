"""The console's pages on a product that is not the shop: a record page lists the task runs on it (a run records
the record its task is offered on), and the audit masks a customer's email though no record is named customers."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from console import create_app
from console.audit.chain import record_event
from console.auth.services import create_user
from console.db import console_session, utcnow
from console.migrations import upgrade_console
from console.tasks.runner import RunRequest, start_run
from console.tasks.testing import create_product_tables
from tests.conftest import TEST_PASSWORD, AuthActions, config_for


@pytest.fixture
def saas(test_databases):
    """The hand-written SaaS package with its tasks (tests/product/saas_tasks), its demo records, and an agent."""
    app = create_app(config_for(test_databases.create(), PRODUCT_PACKAGE="tests.product.saas_tasks"))
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    create_product_tables(app)
    product = app.extensions["product"]
    with dbs.target_engine.begin() as conn:
        for table, values in product.demo_records(utcnow()):
            conn.execute(insert(product.metadata.tables[table]).values(values))
    with app.app_context():
        agent = create_user(console_session(), "agent@saas-console.example", "agent", TEST_PASSWORD, actor="test")
        create_user(console_session(), "lead@saas-console.example", "lead", TEST_PASSWORD, actor="test")
    yield app, agent
    dbs.dispose()


def _run(app, agent, subscription: int, ticket: str):
    with app.app_context():
        return start_run(RunRequest(task="cancel_subscription", params={"subscription_id": subscription},
                                    ticket=ticket, reason="the customer asked to cancel", actor=agent, source="api"))


def test_a_record_page_lists_the_runs_on_that_record_and_no_others(saas):
    app, agent = saas
    run, other = _run(app, agent, 1, "T-SAAS-ONE"), _run(app, agent, 3, "T-SAAS-THREE")
    assert (run.status, other.status) == ("succeeded", "succeeded")
    # The subscription BelongsTo its account, the package's customer record: the run names ada as its customer.
    assert (run.record, run.record_key, run.customer, run.order_id) == ("subscriptions", "1", "ada@saas.example", None)

    client = app.test_client()
    assert AuthActions(client).login(agent.email).status_code == 302
    page = client.get("/admin/records/subscriptions/1").get_data(as_text=True)
    runs = page[page.index('id="runs-title"'):]
    assert "T-SAAS-ONE" in runs and "cancel_subscription" in runs and "T-SAAS-THREE" not in runs
    # The customer's page lists the runs that name her, on any of her subscriptions, and her tickets.
    account = client.get("/admin/records/accounts/1").get_data(as_text=True)
    runs = account[account.index('id="runs-title"'):]
    assert "T-SAAS-ONE" in runs and "T-SAAS-THREE" not in runs  # subscription 3 is bo's
    tickets = account[account.index('id="tickets-title"'):]
    assert "T-SAAS-ONE" in tickets and "T-SAAS-THREE" not in tickets
    # A record that names no customer and is offered no task has no runs section at all.
    with app.extensions["console_db"].target_engine.begin() as conn:
        conn.execute(insert(app.extensions["product"].metadata.tables["invoices"]).values(
            id=1, number="INV-1", account_id=1, subscription_id=1, amount_cents=900, currency="EUR", issued_at=utcnow()))
    invoice = client.get("/admin/records/invoices/1")
    assert invoice.status_code == 200 and 'id="runs-title"' not in invoice.get_data(as_text=True)


def test_the_audit_masks_the_customer_email_of_a_product_without_a_customers_record(saas):
    app, _agent = saas
    with app.app_context():
        entry = record_event(console_session(), actor="agent@saas-console.example", action="task.outcome",
                             task="cancel_subscription", customer="ada@saas.example", reason="asked by phone")
    client = app.test_client()
    assert AuthActions(client).login("lead@saas-console.example").status_code == 302
    for page in ("/admin/audit/", f"/admin/audit/entry/{entry.seq}"):
        html = client.get(page).get_data(as_text=True)
        assert "ada@saas.example" not in html and "@s•••.example" in html, page


def test_a_runs_emails_are_masked_in_the_api_and_on_its_page_without_an_outbox_record(saas):
    """The SaaS package declares no email_outbox record: the address a run emailed is an email all the same."""
    from console.auth.services import create_token

    app, agent = saas
    run = _run(app, agent, 1, "T-SAAS-MAIL")
    with app.app_context():
        token = create_token(console_session(), agent, "test")
    answer = app.test_client().get(f"/api/v1/runs/{run.id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json()["run"]["effects"][0]["template"] == "subscription_cancelled"
    assert "ada@saas.example" not in answer.get_data(as_text=True)
    client = app.test_client()
    assert AuthActions(client).login(agent.email).status_code == 302
    page = client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    assert "ada@saas.example" not in page and "@s•••.example" in page


def test_a_change_to_a_customer_row_is_named_by_the_masked_email_of_the_products_customer_record(saas):
    from console.formatting import Personal
    from console.tasks.presenting import change_tables

    app, _agent = saas
    change = {"table": "accounts", "key": 1, "before": {"company": "Firm"}, "after": {"company": "Firm Ltd"}}
    with app.app_context():
        [named] = change_tables([change], Personal(), customer="ada@saas.example")
        [other] = change_tables([{**change, "table": "subscriptions"}], Personal(), customer="ada@saas.example")
    assert named["name"] == "Account a•••@s•••.example (#1)" and other["name"] == "Subscription #1"
