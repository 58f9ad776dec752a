"""The records API over the demo shop's declarations: search, paging, detail, masking, money, reveal."""
from __future__ import annotations

from sqlalchemy import select

from console.audit.models import AuditEntry
from tests.factories import CustomerFactory, OrderFactory


def _customers(prefix: str, count: int):
    return [CustomerFactory(email=f"{prefix}{n:02d}@example.com", name=f"Zed Person{n}") for n in range(count)]


def test_the_records_are_listed_with_their_search_keys(client, api_token):
    _user, headers = api_token("product_owner")
    records = {r["name"]: r for r in client.get("/api/v1/records", headers=headers).get_json()["records"]}
    assert records["customers"] == {"name": "customers", "title": "Customers", "search": ["id", "email", "name", "phone"]}
    assert {"orders", "order_items", "payments", "refunds", "shipments", "outbox_emails"} <= set(records)


def test_an_exact_email_finds_one_customer_masked(client, api_token):
    _user, headers = api_token("agent")
    customer = CustomerFactory(email="exact.match@example.com", name="Exact Match", phone="+49 1512345678")
    body = client.get("/api/v1/records/customers?q=exact.match@example.com", headers=headers).get_json()
    assert body["next"] is None
    assert [item["key"] for item in body["items"]] == [customer.id]
    item = body["items"][0]
    assert item["fields"]["email"] == "ex•••h@e•••.com" and item["fields"]["name"] == "E••• M•••"
    assert item["title"] == "E••• M••• <ex•••h@e•••.com>"
    assert "exact.match" not in str(body)


def test_a_prefix_search_pages_with_next_and_never_repeats(client, api_token):
    _user, headers = api_token("agent")
    made = _customers("pagingprefix.", 30)
    first = client.get("/api/v1/records/customers?q=pagingprefix.", headers=headers).get_json()
    assert len(first["items"]) == 25 and first["next"]
    second = client.get(f"/api/v1/records/customers?q=pagingprefix.&after={first['next']}", headers=headers)
    second = second.get_json()
    assert second["next"] is None
    keys = [item["key"] for item in first["items"] + second["items"]]
    assert sorted(keys) == sorted(c.id for c in made) and len(set(keys)) == 30


def test_exact_keys_come_before_prefix_matches(client, api_token):
    _user, headers = api_token("agent")
    longer = CustomerFactory(email="same.start@example.com.au")
    exact = CustomerFactory(email="same.start@example.com")
    body = client.get("/api/v1/records/customers?q=same.start@example.com", headers=headers).get_json()
    assert [item["key"] for item in body["items"]] == [exact.id, longer.id]


def test_without_q_the_list_walks_every_row_in_key_order(client, api_token):
    _user, headers = api_token("agent")
    _customers("walk.", 27)
    keys, after = [], ""
    for _page in range(1000):
        body = client.get(f"/api/v1/records/customers?after={after}", headers=headers).get_json()
        keys += [item["key"] for item in body["items"]]
        if body["next"] is None:
            break
        after = body["next"]
    assert keys == sorted(keys) and len(keys) == len(set(keys)) >= 27


def test_detail_has_money_in_units_related_both_ways_and_offered_tasks(client, api_token):
    _user, headers = api_token("agent")
    customer = CustomerFactory()
    order = OrderFactory(customer_id=customer.id, total_cents=25000, currency="EUR")
    body = client.get(f"/api/v1/records/orders/{order.id}", headers=headers).get_json()["record"]
    assert body["fields"]["total_cents"] == {"cents": 25000, "currency": "EUR", "text": "EUR 250.00"}
    assert [c["key"] for c in body["related"]["customers"]] == [customer.id]
    assert "refund_order" in body["tasks"] and "unlock_account" not in body["tasks"]
    shown = client.get(f"/api/v1/records/customers/{customer.id}", headers=headers).get_json()["record"]
    assert [o["key"] for o in shown["related"]["orders"]] == [order.id]
    assert "change_email" in shown["tasks"]
    assert shown["not_applying"] == {"unlock_account": "the account is active"}  # its applies_when
    assert customer.email not in str(shown)


def test_a_product_owner_sees_no_tasks_and_may_not_reveal(client, api_token, console_db):
    _user, headers = api_token("product_owner")
    customer = CustomerFactory()
    assert client.get(f"/api/v1/records/customers/{customer.id}", headers=headers).get_json()["record"]["tasks"] == []
    response = client.post(f"/api/v1/records/customers/{customer.id}/reveal", headers=headers,
                           json={"reason": "curious about it"})
    assert response.status_code == 403 and customer.email not in response.get_data(as_text=True)
    assert console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")).first() is None


def test_a_reveal_is_audited_and_unmasks(client, api_token, console_db):
    user, headers = api_token("agent")
    customer = CustomerFactory(email="reveal.me@example.com", name="Reveal Me")
    response = client.post(f"/api/v1/records/customers/{customer.id}/reveal", headers=headers,
                           json={"reason": "Customer asked for their address", "ticket": "T-9"})
    assert response.status_code == 200
    record = response.get_json()["record"]
    assert record["fields"]["email"] == "reveal.me@example.com" and record["title"] == "Reveal Me <reveal.me@example.com>"
    entry = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")).one()
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.ticket) == (
        user.email, "customers", str(customer.id), "T-9")


def test_bad_requests_are_named(client, api_token, console_db):
    _user, headers = api_token("agent")
    customer = CustomerFactory()
    cases = [
        (client.get("/api/v1/records/nope", headers=headers), 404, None),
        (client.get("/api/v1/records/customers/999999999", headers=headers), 404, None),
        (client.get("/api/v1/records/customers/not-a-number", headers=headers), 404, None),
        (client.get("/api/v1/records/customers?after=garbage", headers=headers), 400, "after"),
        (client.get("/api/v1/records/customers?q=" + "x" * 300, headers=headers), 400, "q"),
        (client.get("/api/v1/records/customers?q=ann%00lee", headers=headers), 400, "q"),
        (client.post(f"/api/v1/records/customers/{customer.id}/reveal", headers=headers, json={"reason": "x"}),
         400, "reason"),
        (client.post("/api/v1/records/customers/999999999/reveal", headers=headers,
                     json={"reason": "a good reason"}), 404, None),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.get_data(as_text=True)
        if field:
            assert field in response.get_json()["error"]["fields"]
    assert console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")).first() is None
