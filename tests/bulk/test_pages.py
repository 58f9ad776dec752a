"""The bulk pages: a CSV pasted, the whole previewed, confirmed; the bulk followed; decided by a lead."""
from __future__ import annotations

import re

from sqlalchemy import select

from console.bulk.models import Bulk


def _preview(client, auth, task, csv, ticket="T-WEB", reason="incident"):
    return client.post("/admin/bulk/preview", data={"csrf_token": auth.csrf("/admin/bulk/"), "task": task,
                                                    "csv": csv, "ticket": ticket, "reason": reason})


def test_a_pasted_csv_is_previewed_whole_then_confirmed_and_followed(client, auth, login_as, locked_customers,
                                                                    work, console_db):
    login_as("agent")
    emails = locked_customers(3)
    csv = "email\n" + "\n".join(emails + [emails[0]]) + "\n"
    page = _preview(client, auth, "unlock_account", csv)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:2000]
    assert "over 4 items" in html and "not needed" in html
    # Each item is rehearsed on the rows as they are now: a repeat is refused only once the first has run.
    assert "Would be refused</th><td>none" in html
    items_hash = re.search(r'name="items_hash" value="([0-9a-f]{64})"', html).group(1)
    made = client.post("/admin/bulk/create", data={"csrf_token": auth.csrf("/admin/bulk/"), "task": "unlock_account",
                                                   "csv": csv, "ticket": "T-WEB", "reason": "incident",
                                                   "items_hash": items_hash})
    assert made.status_code == 302
    bulk = console_db.scalar(select(Bulk))
    assert made.headers["Location"].endswith(f"/admin/bulk/{bulk.id}")
    work(bulk.id)
    shown = client.get(f"/admin/bulk/{bulk.id}").get_data(as_text=True)
    assert 'id="bulk-bar"' in shown and "succeeded: 3" in shown and "refused: 1" in shown


def test_a_list_changed_after_its_preview_is_not_queued(client, auth, login_as, locked_customers, console_db):
    login_as("agent")
    emails = locked_customers(2)
    changed = client.post("/admin/bulk/create", data={"csrf_token": auth.csrf("/admin/bulk/"),
                                                      "task": "unlock_account", "csv": "email\n" + emails[0] + "\n",
                                                      "ticket": "T-WEB", "reason": "incident", "items_hash": "0" * 64})
    assert changed.status_code == 409
    assert console_db.scalar(select(Bulk)) is None


def test_the_preview_shows_the_total_in_the_currency(client, auth, login_as, paid_orders):
    login_as("agent")
    orders = paid_orders(2, total_cents=9000)
    page = _preview(client, auth, "refund_order", "order_id,amount_cents\n" + "".join(f"{o},2550\n" for o in orders))
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:2000]
    assert "Total amount</th><td>EUR 51.00</td>" in html and "5100 cents" not in html


def test_a_bad_csv_shows_the_row_and_column(client, auth, login_as):
    login_as("agent")
    page = _preview(client, auth, "refund_order", "order_id,amount_cents\n1,=1+1\n")
    assert page.status_code == 400
    assert "row 2, column amount_cents" in page.get_data(as_text=True)


def test_a_lead_sees_the_bulk_waiting_and_approves_it(client, auth, login_as, api_token, paid_orders):
    _, headers = api_token("agent")
    orders = paid_orders(2, total_cents=9000)
    bulk = client.post("/api/v1/tasks/refund_order/bulk", headers=headers, json={
        "items": [{"order_id": o, "amount_cents": 8000} for o in orders], "ticket": "T-W", "reason": "r"}
    ).get_json()["bulk"]
    login_as("lead")
    assert f"Bulk #{bulk['id']}" in client.get("/admin/bulk/").get_data(as_text=True)
    page = client.get(f"/admin/bulk/{bulk['id']}").get_data(as_text=True)
    assert "Approve all 2 items" in page
    # Money in the currency's units, never raw cents: the total and why it needs approval.
    assert "Total amount</th><td>EUR 160.00</td>" in page and "cents" not in page
    assert f"Order number: {orders[0]}, Amount to refund: EUR 80.00" in page  # each item, as people read it
    assert "the bulk moves EUR 160.00 in total, above the Agent limit of EUR 100.00" in page
    client.post(f"/admin/bulk/{bulk['id']}/approve", data={"csrf_token": auth.csrf(f"/admin/bulk/{bulk['id']}"),
                                                           "reason": "checked"})
    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert shown["status"] == "queued"


def test_no_task_is_chosen_for_the_agent(client, login_as):
    """The first task in the list may be a risky one (anonymize): the form makes the agent choose."""
    login_as("agent")
    page = client.get("/admin/bulk/").get_data(as_text=True)
    assert '<option value="" selected disabled>Choose a task…</option>' in page
    assert page.count(" selected") == 1
