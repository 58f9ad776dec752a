"""Record lists: selecting rows for a bulk run of a task offered on the record, and text that stays text."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from admin_tasks.shop_schema import OutboxEmail
from tests.factories import CustomerFactory, OrderFactory
from tests.lookup.conftest import T0
from tests.lookup.test_offers import registry  # noqa: F401  (the fixture: tasks offered on customers and orders)


class _Form(HTMLParser):
    """The bulk selection form of a page: its attributes, its checkboxes and its task picker."""

    def __init__(self):
        super().__init__()
        self.form, self.inside, self.checkboxes, self.options, self.labels, self.select = None, False, [], [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "bulk-select":
            self.form, self.inside = attrs, True
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("type") == "checkbox":
            self.checkboxes.append(attrs)
        elif tag == "select":
            self.select = attrs
        elif tag == "option":
            self.options.append(attrs["value"])
        elif tag == "label":
            self.labels[attrs.get("for")] = attrs

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def _form(html: str) -> _Form:
    parsed = _Form()
    parsed.feed(html)
    return parsed


def _listed_keys(html: str, record: str) -> list[str]:
    return re.findall(rf'<td><a href="/admin/records/{record}/([^"/]+)">', html)


def test_an_agent_selects_customers_for_a_bulk_run_of_a_task_offered_on_them(client, login_as, alice, registry):
    login_as("agent")
    customers = [CustomerFactory() for _ in range(3)]
    html = client.get("/admin/records/customers/").get_data(as_text=True)
    form = _form(html)
    assert form.form == {"method": "get", "action": "/admin/bulk/", "id": "bulk-select",
                         "aria-label": "Select rows for a bulk run"}
    # One checkbox per row, named `key`, valued by the row's key, labelled for a screen reader.
    keys = _listed_keys(html, "customers")
    assert len(keys) == 4 and {str(c.id) for c in customers} < set(keys)
    assert [box["value"] for box in form.checkboxes] == keys
    assert all(box["name"] == "key" and box["aria-label"] == f"Select customer {box['value']}"
               for box in form.checkboxes)
    # The tasks offered on customers that an agent may run: not the lead's, not the order's, not the unoffered.
    # None is picked for the agent: the browser asks for a choice (the first offered may be an erasure).
    assert form.select["name"] == "task" and "required" in form.select and "bulk-task" in form.labels
    assert form.options == ["", "unlock_for_test"]
    # What the browser sends: the bulk page's form, for the picked task and the ticked rows.
    query = urlencode([("task", form.options[1]), *(("key", key) for key in keys[:2])], doseq=True)
    assert client.get(f"{form.form['action']}?{query}").status_code == 200


def test_a_lead_may_pick_every_task_offered_on_the_record(client, login_as, alice, registry):
    login_as("lead")
    form = _form(client.get("/admin/records/customers/").get_data(as_text=True))
    assert form.options == ["", "leads_only_for_test", "unlock_for_test"]


def test_orders_are_selected_by_their_number_on_a_search_and_a_filtered_list(client, login_as, alice, registry):
    customer, orders = alice
    login_as("agent")
    for path in (f"/admin/records/orders/?customer_id={customer.id}", f"/admin/records/orders/?q={orders[0].id}"):
        html = client.get(path).get_data(as_text=True)
        form = _form(html)
        assert form.options == ["", "cancel_for_test"], path
        assert [box["value"] for box in form.checkboxes] == _listed_keys(html, "orders"), path


@pytest.mark.parametrize("role", ["product_owner", "developer"])
def test_roles_that_may_not_run_tasks_get_no_selection(client, login_as, alice, registry, role):
    login_as(role)
    html = client.get("/admin/records/customers/").get_data(as_text=True)
    assert _listed_keys(html, "customers")
    assert 'type="checkbox"' not in html and "bulk-select" not in html


def test_a_record_without_tasks_offered_on_it_has_no_selection(client, login_as, alice, registry):
    login_as("admin")
    for path in ("/admin/records/refunds/", "/admin/records/outbox_emails/"):
        html = client.get(path).get_data(as_text=True)
        assert 'type="checkbox"' not in html and "bulk-select" not in html, path


def test_text_from_the_database_stays_text_on_lists_and_record_pages(client, auth, login_as, target_db):
    script = "<script>alert(1)</script>"
    customer = CustomerFactory(name=f"{script} Lookup", email="angle<b>@example.com", created_at=T0)
    order = OrderFactory(customer_id=customer.id, created_at=T0)
    target_db.add(OutboxEmail(customer_id=customer.id, order_id=order.id, to_address="x@example.com",
                              template="order_paid", subject=f"Your order {script}", created_at=T0))
    target_db.flush()
    login_as("agent")
    pages = ["/admin/records/customers/", "/admin/records/outbox_emails/", "/admin/records/orders/",
             f"/admin/records/customers/{customer.id}", f"/admin/records/orders/{order.id}"]
    path = f"/admin/records/customers/{customer.id}"
    client.post(f"{path}/reveal", data={"csrf_token": auth.csrf(path), "reason": "Checking the escaping, T-1"})
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>" not in html, page
    assert "Your order &lt;script&gt;alert(1)&lt;/script&gt;" in client.get(pages[1]).get_data(as_text=True)
    revealed = client.get(path).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lookup" in revealed and "angle&lt;b&gt;@example.com" in revealed
