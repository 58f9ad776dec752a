"""Pausing and resuming a bulk, and a bulk whose approval expired, over the API."""
from __future__ import annotations

from sqlalchemy import select, update

from console.audit.models import AuditEntry
from console.bulk.models import Bulk, BulkItem


def _request(client, headers, task, items, ticket="T-CTRL", reason="incident 7"):
    answer = client.post(f"/api/v1/tasks/{task}/bulk", json={"items": items, "ticket": ticket, "reason": reason},
                         headers=headers)
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["bulk"]


def _post(client, headers, bulk_id, action, reason="checking the list"):
    return client.post(f"/api/v1/bulk/{bulk_id}/{action}", json={"reason": reason}, headers=headers)


def _actions(console_db, bulk_id) -> list[str]:
    return list(console_db.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "bulk",
                                                                   AuditEntry.subject_id == str(bulk_id))
                                   .order_by(AuditEntry.seq)))


def test_a_paused_bulk_runs_nothing_until_resumed_then_carries_on(client, api_token, locked_customers, work,
                                                                  console_db):
    _, headers = api_token("agent")
    bulk = _request(client, headers, "unlock_account", [{"email": e} for e in locked_customers(3)])
    paused = _post(client, headers, bulk["id"], "pause")
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json()["bulk"]["status"] == "paused"
    assert work(bulk["id"]) == 0
    assert client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]["done"] == 0
    again = _post(client, headers, bulk["id"], "pause")
    assert again.status_code == 409 and "paused" in again.get_json()["error"]["message"]

    resumed = _post(client, headers, bulk["id"], "resume", "list checked")
    assert resumed.status_code == 200 and resumed.get_json()["bulk"]["status"] == "queued"
    assert work(bulk["id"]) == 3
    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert (shown["status"], shown["succeeded"]) == ("finished", 3)
    assert _actions(console_db, bulk["id"]) == ["bulk.request", "bulk.paused", "bulk.resumed", "bulk.finish"]
    finished = _post(client, headers, bulk["id"], "resume")
    assert finished.status_code == 409 and "is finished" in finished.get_json()["error"]["message"]


def test_pause_and_resume_take_the_requester_a_lead_or_an_admin(client, api_token, locked_customers):
    _, headers = api_token("agent")
    bulk = _request(client, headers, "unlock_account", [{"email": e} for e in locked_customers(1)])
    _, other_agent = api_token("agent")
    assert _post(client, other_agent, bulk["id"], "pause").status_code == 403
    _, lead = api_token("lead")
    assert _post(client, lead, bulk["id"], "pause").status_code == 200
    assert _post(client, other_agent, bulk["id"], "resume").status_code == 403
    assert _post(client, headers, bulk["id"], "resume", "").status_code == 400  # a reason is needed
    cancelled = _post(client, headers, bulk["id"], "cancel")  # a paused bulk can still be cancelled
    assert cancelled.get_json()["bulk"]["status"] == "cancelled"
    assert _post(client, lead, bulk["id"], "resume").status_code == 409


def test_a_worker_stops_claiming_when_the_bulk_is_paused_and_gives_the_rest_back(app, client, api_token,
                                                                                 locked_customers, console_db,
                                                                                 monkeypatch):
    from console.bulk.working import work_bulk
    from console.db import console_session, expect_writes

    _, headers = api_token("agent")
    bulk = _request(client, headers, "unlock_account", [{"email": e} for e in locked_customers(5)])
    monkeypatch.setitem(app.config, "BULK_CHUNK_ITEMS", 2)  # a pause takes effect between chunks
    asked = []

    def pause_after_two() -> bool:
        asked.append(1)
        if len(asked) == 2:  # a person pauses the bulk while its worker is between chunks
            session = console_session()
            session.execute(update(Bulk).where(Bulk.id == bulk["id"]).values(status="paused"))
            session.commit()
        return False

    with app.app_context():
        expect_writes()
        assert work_bulk(bulk["id"], stopping=pause_after_two) == 2
    statuses = list(console_db.scalars(select(BulkItem.status).where(BulkItem.bulk_id == bulk["id"])
                                       .order_by(BulkItem.idx)))
    assert statuses == ["succeeded", "succeeded", "pending", "pending", "pending"]


def test_a_bulk_left_undecided_too_long_expires_as_rejected(client, api_token, waiting_bulk, console_db):
    _, headers = api_token("agent")
    bulk, age = waiting_bulk(headers)
    age(1)
    assert client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]["status"] == \
        "pending_approval"
    age(3)
    shown = client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]
    assert (shown["status"], shown["decision_reason"], shown["approved_by"]) == \
        ("rejected", "approval expired", None)
    items = client.get(f"/api/v1/bulk/{bulk['id']}/items", headers=headers).get_json()["items"]
    assert {item["status"] for item in items} == {"rejected"}
    assert _actions(console_db, bulk["id"]) == ["bulk.request", "bulk.expire"]
    _, lead = api_token("lead")
    late = _post(client, lead, bulk["id"], "approve")
    assert late.status_code == 409 and "rejected" in late.get_json()["error"]["message"]
    assert _actions(console_db, bulk["id"]) == ["bulk.request", "bulk.expire"]


def test_the_leads_list_expires_stale_bulks_before_showing_them(client, api_token, waiting_bulk, console_db,
                                                                 login_as):
    _, headers = api_token("agent")
    bulk, age = waiting_bulk(headers)
    login_as("lead")
    assert f"Bulk #{bulk['id']}" in client.get("/admin/bulk/").get_data(as_text=True)
    age(3)
    assert f"Bulk #{bulk['id']}" not in client.get("/admin/bulk/").get_data(as_text=True)
    assert console_db.scalar(select(Bulk.status).where(Bulk.id == bulk["id"])) == "rejected"


def test_items_can_be_filtered_by_status(client, api_token, locked_customers, work):
    _, headers = api_token("agent")
    emails = locked_customers(2)
    bulk = _request(client, headers, "unlock_account", [{"email": emails[0]}, {"email": emails[0]},
                                                        {"email": emails[1]}])
    work(bulk["id"])
    refused = client.get(f"/api/v1/bulk/{bulk['id']}/items?status=refused", headers=headers).get_json()["items"]
    assert [item["index"] for item in refused] == [1]
    bad = client.get(f"/api/v1/bulk/{bulk['id']}/items?status=done", headers=headers)
    assert bad.status_code == 400 and "status" in bad.get_json()["error"]["fields"]


def test_resume_with_the_queue_unreachable_is_a_503_and_the_bulk_stays_paused(app, client, api_token,
                                                                              locked_customers, monkeypatch):
    _, headers = api_token("agent")
    bulk = _request(client, headers, "unlock_account", [{"email": e} for e in locked_customers(1)])
    assert _post(client, headers, bulk["id"], "pause").status_code == 200
    monkeypatch.setitem(app.config, "QUEUE_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setitem(app.extensions, "bulk_redis", None)  # a client for that address; the old one after
    refused = _post(client, headers, bulk["id"], "resume")
    assert refused.status_code == 503 and "CONSOLE_QUEUE_URL" in refused.get_json()["error"]["message"]
    assert client.get(f"/api/v1/bulk/{bulk['id']}", headers=headers).get_json()["bulk"]["status"] == "paused"


def test_a_bulk_whose_last_items_ended_while_paused_finishes_on_resume(client, api_token, locked_customers, work,
                                                                       console_db):
    _, headers = api_token("agent")
    bulk = _request(client, headers, "unlock_account", [{"email": e} for e in locked_customers(2)])
    _post(client, headers, bulk["id"], "pause")
    # Its worker was running both items when the pause came; they ended after it.
    console_db.execute(update(BulkItem).where(BulkItem.bulk_id == bulk["id"]).values(status="succeeded"))
    console_db.commit()
    resumed = _post(client, headers, bulk["id"], "resume").get_json()["bulk"]
    assert (resumed["status"], resumed["done"]) == ("finished", 2)
    assert _actions(console_db, bulk["id"])[-2:] == ["bulk.resumed", "bulk.finish"]
