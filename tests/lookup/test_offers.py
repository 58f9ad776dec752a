"""Customer and order pages offer the tasks that apply, pre-filled, to roles that may run them."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import pytest

from console.tasks import Email, Param, TaskContext, task
from console.tasks.registry import TaskRegistry
from console.tasks.spec import build_spec


@task(title="Unlock the account", category="Accounts")
def unlock_for_test(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Unlock a customer account."""


@task(title="Cancel the order", category="Orders", risk="medium")
def cancel_for_test(ctx: TaskContext, order_id: Annotated[int, Param("Order number", min=1)]) -> str:
    """Cancel an order that has not shipped."""


@task(title="Leads only", category="Accounts", roles=("lead",))
def leads_only_for_test(ctx: TaskContext, email: Annotated[Email, Param("Customer email")]) -> str:
    """Something only leads may do."""


@pytest.fixture
def registry(app, monkeypatch):
    if "tasks.task_form" not in app.view_functions:
        pytest.skip("the task form is not registered in this build")
    specs = [build_spec(fn, __file__) for fn in (unlock_for_test, cancel_for_test, leads_only_for_test)]
    monkeypatch.setitem(app.extensions, "task_registry", TaskRegistry(specs))


def test_a_customer_page_offers_its_tasks_without_leaking_the_email(client, login_as, alice, registry):
    customer, _ = alice
    login_as("agent")
    with client.session_transaction() as session:
        session["ticket_ref"] = "T-9"
    html = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "Unlock the account" in html
    assert "Cancel the order" not in html and "Leads only" not in html
    assert customer.email not in html
    response = client.get(f"/admin/customers/{customer.id}/tasks/unlock_for_test")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/tasks/unlock_for_test/"
    assert parse_qs(location.query) == {"email": [customer.email], "ticket": ["T-9"]}


def test_an_order_page_offers_order_tasks_pre_filled(client, login_as, alice, registry):
    _, orders = alice
    login_as("agent")
    html = client.get(f"/admin/orders/{orders[-1].id}").get_data(as_text=True)
    assert f"/admin/tasks/cancel_for_test/?order_id={orders[-1].id}" in html
    assert "Unlock the account" not in html


def test_only_tasks_the_role_may_run_are_offered(client, login_as, alice, registry):
    customer, _ = alice
    login_as("lead")
    assert "Leads only" in client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["product_owner", "developer"])
def test_roles_that_run_no_tasks_are_offered_none(client, login_as, alice, registry, role):
    customer, _ = alice
    login_as(role)
    assert "Unlock the account" not in client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert client.get(f"/admin/customers/{customer.id}/tasks/unlock_for_test").status_code == 403


def test_a_task_that_does_not_apply_is_not_redirected_to(client, login_as, alice, registry):
    customer, _ = alice
    login_as("agent")
    assert client.get(f"/admin/customers/{customer.id}/tasks/cancel_for_test").status_code == 404
    assert client.get(f"/admin/customers/{customer.id}/tasks/leads_only_for_test").status_code == 404
    assert client.get("/admin/customers/99999999/tasks/unlock_for_test").status_code == 404


def test_without_a_task_registry_pages_offer_nothing(client, login_as, alice, app, monkeypatch):
    customer, _ = alice
    monkeypatch.delitem(app.extensions, "task_registry", raising=False)
    login_as("agent")
    response = client.get(f"/admin/customers/{customer.id}")
    assert response.status_code == 200
    assert "Tasks for this customer" not in response.get_data(as_text=True)
