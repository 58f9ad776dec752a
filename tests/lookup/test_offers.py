"""Record pages offer the tasks declared on their record (offered_on / record_param), pre-filled, and their runs."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import pytest

from console.tasks import Email, Param, TaskContext, task
from console.tasks.models import TaskRun
from console.tasks.registry import TaskRegistry
from console.tasks.spec import build_spec
from tests.factories import CustomerFactory, OrderFactory, ShipmentFactory


@task(title="Unlock the account", category="Accounts", offered_on="customers", record_param="email")
def unlock_for_test(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Unlock a customer account."""


@task(title="Cancel the order", category="Orders", risk="medium", offered_on="orders", record_param="order_id")
def cancel_for_test(ctx: TaskContext, reason_code: Annotated[str, Param("Why")],
                    order_id: Annotated[int, Param("Order number", min=1)]) -> str:
    """Cancel an order that has not shipped."""


@task(title="Leads only", category="Accounts", roles=("lead",), offered_on="customers", record_param="email")
def leads_only_for_test(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Something only leads may do."""


@task(title="Not offered anywhere", category="Accounts")
def unoffered_for_test(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Takes an email, but states no record: no page guesses it from the parameter's name."""


@task(title="Note a shipment", category="Orders", offered_on="shipments", record_param="carrier")
def shipment_for_test(ctx: TaskContext, carrier: Annotated[str, Param("Carrier")]) -> str:
    """Filled from the shipment's own `carrier` column, not its key."""


@pytest.fixture
def registry(app, monkeypatch):
    specs = [build_spec(fn, __file__) for fn in (unlock_for_test, cancel_for_test, leads_only_for_test,
                                                 unoffered_for_test, shipment_for_test)]
    monkeypatch.setitem(app.extensions, "task_registry", TaskRegistry(specs))


def test_a_customer_page_offers_its_tasks_without_leaking_the_email(client, login_as, alice, registry):
    customer, _ = alice
    login_as("agent")
    with client.session_transaction() as session:
        session["ticket_ref"] = "T-9"
    html = client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)
    assert "Unlock the account" in html
    assert "Cancel the order" not in html and "Leads only" not in html and "Not offered anywhere" not in html
    assert customer.email not in html
    response = client.get(f"/admin/records/customers/{customer.id}/tasks/unlock_for_test")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/tasks/unlock_for_test/"
    assert parse_qs(location.query) == {"email": [customer.email], "ticket": ["T-9"]}


def test_an_order_page_offers_order_tasks_filled_from_its_key(client, login_as, alice, registry):
    _, orders = alice
    login_as("agent")
    html = client.get(f"/admin/records/orders/{orders[-1].id}").get_data(as_text=True)
    assert f"/admin/tasks/cancel_for_test/?order_id={orders[-1].id}" in html  # not the first parameter
    assert "Unlock the account" not in html


def test_a_task_is_filled_from_the_records_column_of_its_parameters_name(client, login_as, target_db, registry):
    shipment = ShipmentFactory(order_id=OrderFactory(customer_id=CustomerFactory().id).id, carrier="DPD")
    login_as("agent")
    html = client.get(f"/admin/records/shipments/{shipment.id}").get_data(as_text=True)
    assert "/admin/tasks/shipment_for_test/?carrier=DPD" in html
    # Runs record the record their task is offered on: any record offering a task lists them, none yet here.
    assert "Task runs" in html and "No task runs yet." in html


def test_roles_see_only_what_they_may_run(client, login_as, alice, registry):
    customer, _ = alice
    login_as("lead")
    assert "Leads only" in client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)


def test_product_owners_get_no_task_links(client, login_as, alice, registry):
    customer, _ = alice
    login_as("product_owner")
    assert "Tasks for this" not in client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)
    assert client.get(f"/admin/records/customers/{customer.id}/tasks/unlock_for_test").status_code == 403


@pytest.mark.parametrize("task_name", ["cancel_for_test", "unoffered_for_test", "leads_only_for_test", "nothing"])
def test_the_task_link_refuses_tasks_not_offered_on_the_record(client, login_as, alice, registry, task_name):
    customer, _ = alice
    login_as("agent")
    assert client.get(f"/admin/records/customers/{customer.id}/tasks/{task_name}").status_code == 404


def test_the_pages_show_the_recent_runs_on_the_record(client, login_as, alice, registry, console_db):
    customer, orders = alice
    console_db.add(TaskRun(task="unlock_for_test", status="succeeded", ticket="T-RUN-1", reason="asked",
                           actor="a@example.com", customer=customer.email))
    console_db.add(TaskRun(task="cancel_for_test", status="refused", ticket="T-RUN-2", reason="asked",
                           actor="a@example.com", order_id=orders[-1].id))
    console_db.flush()
    login_as("agent")
    people = client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)
    assert "T-RUN-1" in people and "T-RUN-2" not in people
    order = client.get(f"/admin/records/orders/{orders[-1].id}").get_data(as_text=True)
    assert "T-RUN-2" in order and "T-RUN-1" not in order
