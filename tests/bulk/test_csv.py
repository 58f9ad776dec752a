"""A bulk from a CSV: a header of parameter names, one item per row; bad files are a 400 naming row and column."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console.bulk.models import Bulk


def _post(client, headers, body: str, task="refund_order", ticket="T-CSV", reason="incident"):
    return client.post(f"/api/v1/tasks/{task}/bulk?ticket={ticket}&reason={reason}", data=body.encode(),
                       headers={**headers, "Content-Type": "text/csv"})


def test_a_csv_becomes_items_numbered_from_the_first_data_row(client, api_token, paid_orders, work):
    _, headers = api_token("agent")
    orders = paid_orders(2)
    answer = _post(client, headers, "order_id,amount_cents\r\n" + "".join(f"{o},1000\r\n" for o in orders) + "\n")
    assert answer.status_code == 202, answer.get_json()
    bulk = answer.get_json()["bulk"]
    assert (bulk["total"], bulk["ticket"], bulk["reason"]) == (2, "T-CSV", "incident")
    work(bulk["id"])
    items = client.get(f"/api/v1/bulk/{bulk['id']}/items", headers=headers).get_json()["items"]
    assert [(i["index"], i["params"]["order_id"], i["status"]) for i in items] == [
        (0, orders[0], "succeeded"), (1, orders[1], "succeeded")]


@pytest.mark.parametrize("body, field, words", [
    ("", "csv", "empty"),
    ("order_id,amount_cents\n", "csv", "no rows"),
    ("order_id,amount\n1,2\n", "header.2", "row 1, column 2"),
    ("order_id,order_id,amount_cents\n1,1,2\n", "header.2", "given twice"),
    ("amount_cents\n100\n", "header.order_id", "order_id"),
    ("order_id,amount_cents\n1,100\nabc,100\n", "items[1].order_id", "row 3, column order_id"),
    ("order_id,amount_cents\n1,100\n2,=HYPERLINK(\"http://x\")\n", "items[1].amount_cents",
     "row 3, column amount_cents"),
    ("order_id,amount_cents\n@SUM(1),100\n", "items[0].order_id", "formula"),
    ("order_id,amount_cents\n1,100,7\n", "items[0]", "row 2"),
])
def test_a_bad_csv_is_a_400_naming_the_row_and_column_and_nothing_is_queued(client, api_token, console_db, body,
                                                                           field, words):
    _, headers = api_token("agent")
    answer = _post(client, headers, body)
    assert answer.status_code == 400, answer.get_json()
    fields = answer.get_json()["error"]["fields"]
    assert field in fields and words in fields[field], fields
    assert console_db.scalar(select(func.count()).select_from(Bulk)) == 0


def test_more_than_ten_thousand_rows_are_refused(client, api_token):
    _, headers = api_token("agent")
    answer = _post(client, headers, "order_id,amount_cents\n" + "1,1\n" * 10_001)
    assert answer.status_code == 400
    assert "10000" in answer.get_json()["error"]["fields"]["csv"]


def test_the_json_items_limit_is_the_same(client, api_token):
    _, headers = api_token("agent")
    answer = client.post("/api/v1/tasks/refund_order/bulk", headers=headers, json={
        "items": [{"order_id": 1, "amount_cents": 1}] * 10_001, "ticket": "T-1", "reason": "r"})
    assert answer.status_code == 400 and "items" in answer.get_json()["error"]["fields"]
