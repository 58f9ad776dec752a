"""The bulk page's items, pause and resume buttons, an expired bulk, and a bulk started from selected records."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from admin_tasks.shop_schema import Customer
from console.bulk.models import Bulk


def _request(client, headers, task, items):
    answer = client.post(f"/api/v1/tasks/{task}/bulk", json={"items": items, "ticket": "T-PAGE", "reason": "r"},
                         headers=headers)
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["bulk"]


def _indexes(page: str) -> list[int]:
    table = page[page.index('id="bulk-items"'):page.index("</table>", page.index('id="bulk-items"'))]
    return [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", table)]


def test_the_page_lists_items_masked_paged_by_index_and_filtered_by_status(client, api_token, login_as,
                                                                           locked_customers, work, monkeypatch):
    monkeypatch.setattr("console.bulk.views.ITEMS_PAGE", 2)
    _, headers = api_token("agent")
    emails = locked_customers(3)
    bulk = _request(client, headers, "unlock_account", [{"email": e} for e in [emails[0], emails[0], *emails[1:]]])
    work(bulk["id"])
    login_as("agent")
    page = client.get(f"/admin/bulk/{bulk['id']}").get_data(as_text=True)
    assert _indexes(page) == [0, 1]
    assert not any(email in page for email in emails)  # personal parameters are masked, as on run pages
    assert len(re.findall(r'<a href="/admin/runs/(\d+)">run #\1</a>', page)) == 2  # each item links to its run
    nxt = html.unescape(re.search(r'id="items-next" href="([^"]+)"', page).group(1))
    assert "after=1" in nxt
    assert _indexes(client.get(nxt).get_data(as_text=True)) == [2, 3]
    assert f'href="/admin/bulk/{bulk["id"]}?status=refused#items"' in page  # the count links to its items
    refused = client.get(f"/admin/bulk/{bulk['id']}?status=refused").get_data(as_text=True)
    assert _indexes(refused) == [1] and "not locked" in refused
    bad = client.get(f"/admin/bulk/{bulk['id']}?status=nonsense&after=x")
    shown = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "status: not an item status" in shown and "after: not an item index" in shown
    assert _indexes(shown) == [0, 1]


def test_the_requester_pauses_and_resumes_from_the_page(client, auth, login_as, locked_customers, console_db):
    from console.auth.services import create_token

    user = login_as("agent")
    headers = {"Authorization": f"Bearer {create_token(console_db, user, 'test')}"}
    bulk_id = _request(client, headers, "unlock_account", [{"email": e} for e in locked_customers(2)])["id"]
    page = client.get(f"/admin/bulk/{bulk_id}").get_data(as_text=True)
    assert 'id="bulk-pause"' in page and 'id="bulk-resume"' not in page
    token = auth.csrf(f"/admin/bulk/{bulk_id}")
    assert client.post(f"/admin/bulk/{bulk_id}/pause", data={"reason": "wait"}).status_code == 400  # no CSRF
    client.post(f"/admin/bulk/{bulk_id}/pause", data={"csrf_token": token, "reason": "wait"})
    assert console_db.scalar(select(Bulk.status).where(Bulk.id == bulk_id)) == "paused"
    page = client.get(f"/admin/bulk/{bulk_id}").get_data(as_text=True)
    assert 'id="bulk-resume"' in page and 'id="bulk-pause"' not in page
    client.post(f"/admin/bulk/{bulk_id}/resume", data={"csrf_token": token, "reason": "go on"})
    console_db.expire_all()
    assert console_db.scalar(select(Bulk.status).where(Bulk.id == bulk_id)) in ("queued", "running", "finished")


def test_selected_records_fill_in_the_form(client, login_as, locked_customers, target_db):
    login_as("agent")
    emails = locked_customers(2)
    ids = [target_db.scalar(select(Customer.id).where(Customer.email == e)) for e in emails]
    page = client.get("/admin/bulk/", query_string=[("task", "unlock_account"), ("key", ids[1]), ("key", ids[0]),
                                                    ("key", ids[1])])
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text[:2000]
    assert '<option value="unlock_account" selected>' in text
    assert f">email\n{emails[1]}\n{emails[0]}\n</textarea>" in html.unescape(text)


def test_bad_selections_name_the_field(client, login_as):
    login_as("agent")
    for query, field in (([("task", "no_such_task"), ("key", "1")], "task"),
                         ([("task", "unlock_account")], "key"),
                         ([("task", "unlock_account"), ("key", "abc")], "key"),
                         ([("task", "unlock_account"), ("key", "99999999")], "key"),
                         ([("key", "1")], "task")):
        page = client.get("/admin/bulk/", query_string=query)
        text = page.get_data(as_text=True)
        assert page.status_code == 400, (query, text[:500])
        assert f"<code>{field}</code>" in text, query


def test_a_task_not_offered_on_records_cannot_be_selected(app, client, login_as, monkeypatch):
    import dataclasses

    registry = app.extensions["task_registry"]
    monkeypatch.setitem(registry._specs, "unlock_account",
                        dataclasses.replace(registry.get("unlock_account"), offered_on=""))
    login_as("agent")
    page = client.get("/admin/bulk/", query_string=[("task", "unlock_account"), ("key", "1")])
    assert page.status_code == 400 and "not offered on records" in page.get_data(as_text=True)


def test_the_requester_sees_an_expired_bulk(client, api_token, auth, waiting_bulk):
    user, headers = api_token("agent")
    bulk, age = waiting_bulk(headers)
    age(3)
    auth.login(user.email)
    page = client.get(f"/admin/bulk/{bulk['id']}").get_data(as_text=True)
    assert 'id="bulk-expired"' in page and "within 2 hours" in page
    assert "rejected (approval expired)" in client.get("/admin/bulk/").get_data(as_text=True)  # their list too
