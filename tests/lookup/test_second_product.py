"""A product that is not the shop gets the same pages from its inspected package, with no change under console/."""
from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from console.audit.models import AuditEntry
from console.db import console_session
from console.tasks import Email, Param, TaskContext, task
from console.tasks.registry import TaskRegistry
from console.tasks.spec import build_spec
from tests.conftest import AuthActions
from tests.product.conftest import saas_product  # noqa: F401 (the fixture)


@task(title="Send the account a receipt", category="Billing", offered_on="accounts", record_param="email")
def receipt_for_test(ctx: TaskContext, email: Annotated[Email, Param("Account email")]) -> str:
    """Offered on accounts, filled from the account's email."""


@pytest.fixture
def saas(saas_product, monkeypatch):  # noqa: F811
    """(app, client logged in as `role`) over the inspected SaaS product."""
    monkeypatch.setitem(saas_product.app.extensions, "task_registry",
                        TaskRegistry([build_spec(receipt_for_test, __file__)]))

    def client_as(role: str):
        saas_product.headers(role)  # creates the user
        client = saas_product.app.test_client()
        auth = AuthActions(client)
        assert auth.login(saas_product.email(role)).status_code == 302
        return client, auth

    return saas_product, client_as


def test_the_menu_and_lists_come_from_the_inspected_package(saas):
    product, client_as = saas
    client, _ = client_as("agent")
    html = client.get("/admin/records/accounts/").get_data(as_text=True)
    nav = html[html.index("<nav"):html.index("</nav>")]
    assert re.findall(r'href="/admin/records/(\w+)/"', nav) == ["accounts", "invoices", "subscriptions"]
    assert "ac•••1@s•••.example" in html and "acct01@saas.example" not in html
    assert client.get("/admin/customers/").status_code == 404  # the shop's old addresses are the shop's
    assert 'Find an account or an invoice or a subscription' in client.get("/admin/").get_data(as_text=True)


def test_search_paging_and_the_home_search_land_on_the_record(saas):
    product, client_as = saas
    client, _ = client_as("agent")
    first = client.get("/admin/records/accounts/?q=acct").get_data(as_text=True)
    keys = re.findall(r'<tr>(?:<td><input type="checkbox"[^>]*></td>)?<td><a href="/admin/records/accounts/(\d+)">', first)
    assert len(keys) == 25 and "More than 25 matches" in first  # never counted past the page
    following = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    keys += re.findall(r'<tr>(?:<td><input type="checkbox"[^>]*></td>)?<td><a href="/admin/records/accounts/(\d+)">', second)
    assert keys == [str(n) for n in range(1, 31)]
    assert client.get("/admin/records/find?q=INV-0002").headers["Location"] == "/admin/records/invoices/2"
    assert client.get("/admin/records/find?q=acct07@saas.example").headers["Location"] == "/admin/records/accounts/7"


def test_the_detail_page_shows_money_in_units_related_records_and_offers(saas):
    product, client_as = saas
    client, _ = client_as("agent")
    invoice = client.get("/admin/records/invoices/2").get_data(as_text=True)
    assert "GBP 98.00" in invoice and "9800" not in invoice
    assert 'href="/admin/records/accounts/1"' in invoice and 'href="/admin/records/subscriptions/1"' in invoice
    account = client.get("/admin/records/accounts/1").get_data(as_text=True)
    assert "A••• C•••" in account and "Ada Client1" not in account and "acct01@saas.example" not in account
    for n in (1, 2, 3):
        assert f'href="/admin/records/invoices/{n}"' in account
    assert "Send the account a receipt" in account
    response = client.get("/admin/records/accounts/1/tasks/receipt_for_test")
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {"email": ["acct01@saas.example"]}
    assert client.get("/admin/records/invoices/999").status_code == 404
    assert client.get("/admin/records/orders/").status_code == 404


def test_reveal_is_audited_and_refused_to_product_owners(saas):
    product, client_as = saas
    owner, owner_auth = client_as("product_owner")
    refused = owner.post("/admin/records/accounts/3/reveal",
                         data={"csrf_token": owner_auth.csrf(), "reason": "just looking around"})
    assert refused.status_code == 403
    lead, lead_auth = client_as("lead")
    shown = lead.post("/admin/records/accounts/3/reveal", follow_redirects=True,
                      data={"csrf_token": lead_auth.csrf(), "reason": "Customer called about an invoice"})
    assert "acct03@saas.example" in shown.get_data(as_text=True)
    with product.app.app_context():
        entries = console_session().scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")).all()
        assert [(e.actor, e.subject_type, e.subject_id, e.customer) for e in entries] == [
            (product.email("lead"), "accounts", "3", "acct03@saas.example")]
