"""The bulk API as the contract says: request, read, items, approve, reject, cancel."""
from __future__ import annotations

from sqlalchemy import func, select

from admin_tasks.shop_schema import Customer
from console.audit.models import AuditEntry
from console.tasks.models import TaskRun


def _request(client, headers, task, items, ticket="T-BULK", reason="incident 42"):
    return client.post(f"/api/v1/tasks/{task}/bulk", json={"items": items, "ticket": ticket, "reason": reason},
                       headers=headers)


def test_a_bulk_without_approval_is_queued_then_each_item_is_an_audited_run(client, api_token, locked_customers,
                                                                            work, target_db, console_db):
    _, headers = api_token("agent")
    emails = locked_customers(3)
    answer = _request(client, headers, "unlock_account", [{"email": e} for e in emails])
    assert answer.status_code == 202, answer.get_json()
    bulk = answer.get_json()["bulk"]
    assert (bulk["status"], bulk["total"], bulk["done"], bulk["task"]) == ("queued", 3, 0, "unlock_account")
    assert set(bulk) >= {"id", "task", "status", "total", "done", "succeeded", "refused", "failed", "ticket",
                         "reason", "actor", "approved_by", "created_at"}

    assert work(bulk["id"]) == 3

    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert (shown["status"], shown["done"], shown["succeeded"]) == ("finished", 3, 3)
    statuses = target_db.scalars(select(Customer.status).where(Customer.email.in_(emails))).all()
    assert statuses == ["active"] * 3
    items = client.get(f"/api/v1/bulk/{bulk['id']}/items?limit=2", headers=headers).get_json()["items"]
    assert [item["index"] for item in items] == [0, 1]
    assert all(item["status"] == "succeeded" and item["run_id"] for item in items)
    more = client.get(f"/api/v1/bulk/{bulk['id']}/items?after=1", headers=headers).get_json()["items"]
    assert [item["index"] for item in more] == [2]
    runs = console_db.scalars(select(TaskRun).where(TaskRun.idempotency_key.like(f"bulk-{bulk['id']}-%"))).all()
    assert len(runs) == 3 and {run.ticket for run in runs} == {"T-BULK"}
    intents = console_db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "task.intent", AuditEntry.subject_id.in_([str(run.id) for run in runs])))
    assert intents == 3


def test_an_item_that_cannot_apply_is_refused_and_the_others_go_on(client, api_token, locked_customers, work):
    _, headers = api_token("agent")
    emails = locked_customers(2)
    items = [{"email": emails[0]}, {"email": emails[0]}, {"email": emails[1]}]
    bulk = _request(client, headers, "unlock_account", items).get_json()["bulk"]
    work(bulk["id"])
    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert (shown["succeeded"], shown["refused"], shown["status"]) == (2, 1, "finished")
    refused = client.get(f"/api/v1/bulk/{bulk['id']}/items", headers=headers).get_json()["items"][1]
    assert refused["status"] == "refused" and "not locked" in refused["error"]


def test_bad_items_are_a_400_naming_each_by_index_and_nothing_is_written(client, api_token, console_db):
    from console.bulk.models import Bulk

    _, headers = api_token("agent")
    items = [{"order_id": 1, "amount_cents": 100}, {"order_id": "x", "amount_cents": 100}, {}, "nope",
             {"order_id": 2, "amount_cents": 100, "extra": 1}]
    answer = _request(client, headers, "refund_order", items)
    assert answer.status_code == 400
    fields = answer.get_json()["error"]["fields"]
    assert set(fields) == {"items[1].order_id", "items[2].order_id", "items[2].amount_cents", "items[3]",
                           "items[4].extra"}
    assert "items[1].order_id" in answer.get_json()["error"]["message"]
    assert console_db.scalar(select(func.count()).select_from(Bulk)) == 0
    assert _request(client, headers, "refund_order", []).status_code == 400
    assert _request(client, headers, "refund_order", [{"order_id": 1, "amount_cents": 1}], ticket="").status_code == 400
    assert _request(client, headers, "no_such_task", [{}]).status_code == 404


def test_approval_is_needed_over_the_cap_bound_to_the_items_and_given_by_another_lead(
        client, api_token, paid_orders, work, console_db, target_db):
    agent, headers = api_token("agent")
    orders = paid_orders(3, total_cents=5000)
    items = [{"order_id": order, "amount_cents": 4000} for order in orders]  # 12000 in all, above 10000
    bulk = _request(client, headers, "refund_order", items).get_json()["bulk"]
    assert bulk["status"] == "pending_approval"
    assert "EUR 120.00 in total, above the Agent limit of EUR 100.00" in bulk["approval_reasons"]
    assert work(bulk["id"]) == 0  # nothing runs before the approval

    own = client.post(f"/api/v1/bulk/{bulk['id']}/approve", json={"reason": "ok"}, headers=headers)
    assert own.status_code == 403
    lead, lead_headers = api_token("lead")
    approved = client.post(f"/api/v1/bulk/{bulk['id']}/approve", json={"reason": "checked the list"},
                           headers=lead_headers)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["bulk"]["approved_by"] == lead.email
    again = client.post(f"/api/v1/bulk/{bulk['id']}/approve", json={"reason": "twice"}, headers=lead_headers)
    assert again.status_code == 409
    assert work(bulk["id"]) == 3
    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert (shown["status"], shown["succeeded"]) == ("finished", 3)
    decision = console_db.scalar(select(AuditEntry).where(AuditEntry.action == "bulk.approve"))
    assert bulk["id"] and decision.subject_id == str(bulk["id"]) and decision.actor == lead.email


def test_an_approval_binds_the_items_a_changed_list_does_not_run(client, api_token, paid_orders, work, console_db):
    from console.bulk.models import BulkItem

    _, headers = api_token("agent")
    orders = paid_orders(2, total_cents=9000)
    bulk = _request(client, headers, "refund_order",
                    [{"order_id": order, "amount_cents": 8000} for order in orders]).get_json()["bulk"]
    item = console_db.scalar(select(BulkItem).where(BulkItem.bulk_id == bulk["id"], BulkItem.idx == 1))
    item.params = '{"amount_cents": 9000, "order_id": %d}' % orders[1]
    console_db.flush()
    _, lead_headers = api_token("lead")
    refused = client.post(f"/api/v1/bulk/{bulk['id']}/approve", json={"reason": "ok"}, headers=lead_headers)
    assert refused.status_code == 409 and "not the ones requested" in refused.get_json()["error"]["message"]


def test_reject_and_cancel_with_409_when_the_state_does_not_allow(client, api_token, paid_orders, locked_customers):
    _, headers = api_token("agent")
    orders = paid_orders(2, total_cents=9000)
    pending = _request(client, headers, "refund_order",
                       [{"order_id": order, "amount_cents": 8000} for order in orders]).get_json()["bulk"]
    _, lead_headers = api_token("lead")
    rejected = client.post(f"/api/v1/bulk/{pending['id']}/reject", json={"reason": "too much"},
                           headers=lead_headers)
    assert rejected.get_json()["bulk"]["status"] == "rejected"
    assert client.post(f"/api/v1/bulk/{pending['id']}/cancel", json={"reason": "x"},
                       headers=headers).status_code == 409
    queued = _request(client, headers, "unlock_account",
                      [{"email": e} for e in locked_customers(2)]).get_json()["bulk"]
    _, other_agent = api_token("agent")
    assert client.post(f"/api/v1/bulk/{queued['id']}/cancel", json={"reason": "x"},
                       headers=other_agent).status_code == 403
    cancelled = client.post(f"/api/v1/bulk/{queued['id']}/cancel", json={"reason": "wrong list"}, headers=headers)
    assert cancelled.get_json()["bulk"]["status"] == "cancelled"
    items = client.get(f"/api/v1/bulk/{queued['id']}/items", headers=headers).get_json()["items"]
    assert {item["status"] for item in items} == {"cancelled"}
    assert client.post(f"/api/v1/bulk/{queued['id']}/approve", json={"reason": "x"},
                       headers=lead_headers).status_code == 409
    assert client.get("/api/v1/bulk/999999", headers=headers).status_code == 404


def test_a_json_value_of_the_wrong_type_is_a_400_as_the_document_says(client, api_token):
    _, headers = api_token("agent")
    answer = _request(client, headers, "update_shipping_address", [{
        "order_id": 1, "recipient_name": 0, "line1": "1 Main St", "city": "Town", "postcode": "1", "country": "DE"}])
    assert answer.status_code == 400
    assert set(answer.get_json()["error"]["fields"]) == {"items[0].recipient_name"}


def test_an_item_needing_approval_on_its_own_is_approved_with_the_bulk_by_its_approver(
        client, api_token, paid_orders, work, console_db):
    _, headers = api_token("agent")
    orders = paid_orders(2, total_cents=20000)
    items = [{"order_id": orders[0], "amount_cents": 15000}, {"order_id": orders[1], "amount_cents": 100}]
    bulk = _request(client, headers, "refund_order", items).get_json()["bulk"]
    assert bulk["status"] == "pending_approval" and "items[0]" in bulk["approval_reasons"]
    lead, lead_headers = api_token("lead")
    client.post(f"/api/v1/bulk/{bulk['id']}/approve", json={"reason": "refunds checked"}, headers=lead_headers)
    work(bulk["id"])
    items = client.get(f"/api/v1/bulk/{bulk['id']}/items", headers=headers).get_json()["items"]
    assert [item["status"] for item in items] == ["succeeded", "succeeded"]
    high = console_db.get(TaskRun, items[0]["run_id"])
    assert (high.risk, high.approved_by) == ("high", lead.email)
    assert f"bulk {bulk['id']}" in high.decision_reason
    assert console_db.get(TaskRun, items[1]["run_id"]).approved_by is None


def test_a_bulk_items_run_names_its_bulk_and_a_single_run_names_none(client, api_token, locked_customers, work):
    _, headers = api_token("agent")
    bulk_email, single_email = locked_customers(2)
    bulk = _request(client, headers, "unlock_account", [{"email": bulk_email}]).get_json()["bulk"]
    work(bulk["id"])
    item = client.get(f"/api/v1/bulk/{bulk['id']}/items", headers=headers).get_json()["items"][0]
    item_run = client.get(f"/api/v1/runs/{item['run_id']}", headers=headers).get_json()["run"]
    assert item_run["bulk_id"] == bulk["id"]

    started = client.post("/api/v1/tasks/unlock_account/runs", headers=headers, json={
        "params": {"email": single_email}, "ticket": "T-ONE", "reason": "locked out"})
    assert started.status_code == 201, started.get_json()
    single = started.get_json()["run"]
    assert "bulk_id" in single and single["bulk_id"] is None
    shown = client.get(f"/api/v1/runs/{single['id']}", headers=headers).get_json()["run"]
    assert "bulk_id" in shown and shown["bulk_id"] is None
    listed = client.get("/api/v1/runs?ticket=T-BULK", headers=headers).get_json()["runs"]
    assert [run["bulk_id"] for run in listed] == [bulk["id"]]


def test_a_bulk_totalling_more_than_32_bits_of_cents_is_stored_and_read_back_exactly(client, api_token, paid_orders):
    # Each amount is within a run's cap (2^31 - 1 cents); their sum is not, and once answered a 503.
    _, headers = api_token("agent")
    orders = paid_orders(3)
    largest = 2**31 - 1
    answer = _request(client, headers, "refund_order", [{"order_id": order, "amount_cents": largest} for order in orders])
    assert answer.status_code == 202, answer.get_json()
    bulk = answer.get_json()["bulk"]
    assert bulk["status"] == "pending_approval"
    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert shown["amount_cents"] == 3 * largest
    item = client.get(f"/api/v1/bulk/{bulk['id']}/items?limit=1", headers=headers).get_json()["items"][0]
    assert item["params"] == {"order_id": orders[0], "amount_cents": largest}
    assert item["shown"] == [["Order number", str(orders[0])], ["Amount to refund", "EUR 21,474,836.47"]]
    assert "EUR 64,424,509.41 in total" in shown["approval_reasons"]
