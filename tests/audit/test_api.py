"""GET /api/v1/audit?after=&limit=: the trail in seq order, complete enough to re-verify elsewhere."""
import pytest

from console.audit.chain import digest, record_event
from console.jsontext import canonical_json


@pytest.fixture
def entries(app, console_db):
    made = []
    with app.app_context():
        for n in range(5):
            made.append(record_event(console_db, actor="agent@example.com", action="task.run", ticket=f"T-{n}",
                                     details={"params": {"email": "a@example.com"}, "n": n}))
    return made


def test_entries_come_in_seq_order_after_a_cursor(client, api_token, entries):
    _, headers = api_token("lead")
    first = entries[0].seq
    body = client.get(f"/api/v1/audit?after={first}&limit=3", headers=headers).get_json()
    assert [entry["seq"] for entry in body["entries"]] == [first + 1, first + 2, first + 3]
    everything = client.get("/api/v1/audit?limit=1000", headers=headers).get_json()["entries"]
    seqs = [entry["seq"] for entry in everything]
    assert seqs == sorted(seqs) and seqs[0] == 1


def test_a_shipped_entry_can_be_re_verified_elsewhere(client, api_token, entries):
    _, headers = api_token("developer")
    shipped = client.get(f"/api/v1/audit?after={entries[0].seq - 1}&limit=2", headers=headers).get_json()["entries"]
    first, second = shipped
    assert first["details"] == {"params": {"email": "a@example.com"}, "n": 0}
    fields = {name: first[name] for name in ("seq", "created_at", "actor", "action", "subject_type", "subject_id",
                                             "ticket", "reason", "task", "customer", "outcome")}
    assert digest(first["prev_hash"], details=canonical_json(first["details"]), **fields) == first["hash"]
    assert second["prev_hash"] == first["hash"]


def test_the_default_limit_is_100(client, api_token, app, console_db):
    with app.app_context():
        for n in range(105):
            record_event(console_db, actor="agent@example.com", action="bulk")
    _, headers = api_token("admin")
    assert len(client.get("/api/v1/audit", headers=headers).get_json()["entries"]) == 100


@pytest.mark.parametrize("query, field", [("after=-1", "after"), ("after=abc", "after"), ("after=1.5", "after"),
                                          ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=", "limit"),
                                          ("after=%C2%B2", "after"), (f"after={2**31}", "after")])
def test_bad_values_are_a_400_naming_the_field(client, api_token, query, field):
    _, headers = api_token("lead")
    response = client.get(f"/api/v1/audit?{query}", headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert list(error["fields"]) == [field] and field in error["message"]


@pytest.mark.parametrize("role", ["agent", "product_owner"])
def test_roles_without_audit_access_get_403(client, api_token, role):
    _, headers = api_token(role)
    assert client.get("/api/v1/audit", headers=headers).status_code == 403


def test_no_token_gets_401(client):
    assert client.get("/api/v1/audit").status_code == 401
