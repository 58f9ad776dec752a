"""Search by part of a value, as agents search: backed by each database's index, after exact and prefix matches.

The rows are committed, in databases of this module's own; each test searches them through the records API.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, insert, select, update

from admin_tasks.shop.schema import Customer, Order, Shipment
from console import create_app
from console.audit.models import AuditEntry
from console.auth.services import create_token, create_user
from console.db import console_session
from console.migrations import create_target_schema, upgrade_console
from tests.conftest import TEST_PASSWORD, config_for

WHEN = datetime(2026, 1, 1)


def _customer(id_: int, email: str, name: str = "Pat Doe", phone: str | None = None) -> dict:
    return {"id": id_, "email": email, "name": name, "phone": phone, "status": "active", "email_confirmed": True,
            "failed_login_count": 0, "created_at": WHEN, "updated_at": WHEN}


ROWS = [
    _customer(1, "kim.weber@shop.example.org"),   # the exact email's prefix: second
    _customer(2, "anna.kim.weber@shop.example"),  # holds it: third
    _customer(3, "kim.weber@shop.example"),       # the exact email: first
    _customer(4, "anna.weber.4990@mail.example", "Anna Weber", "+49 151 4990 1234"),
    _customer(5, "quinn@other.example", "Zoltan QUIBBLEFORTH", None),
    *(_customer(100 + n, f"pagesub.{n:02d}@x.example") for n in range(10)),     # prefix matches of "pagesub"
    *(_customer(200 + n, f"zz.pagesub.{n:02d}@x.example") for n in range(30)),  # substring matches of "pagesub"
    *(_customer(300 + n, f"dupx.{n:02d}@x.example") for n in range(30)),  # found by prefix, and again by substring
    _customer(330, "a.dupx@x.example"),
    *(_customer(1000 + n, f"filler{n}@bulk.example", f"Filler Person{n}", f"+1 555 {n:07d}") for n in range(300)),
]


@pytest.fixture(scope="module")
def shop(test_databases):
    """SimpleNamespace(app, client, headers(role), audit()) over a demo shop with committed customers."""
    app = create_app(config_for(test_databases.create()))
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    create_target_schema(dbs.target_engine, app.extensions["product"])
    with dbs.target_engine.begin() as conn:
        conn.execute(insert(Customer.__table__), ROWS)
    tokens = {}

    def headers(role: str) -> dict:
        if role not in tokens:
            with app.app_context():
                user = create_user(console_session(), f"{role}.{uuid.uuid4().hex[:6]}@console.example", role,
                                   TEST_PASSWORD, actor="test")
                tokens[role] = create_token(console_session(), user, "test")
        return {"Authorization": f"Bearer {tokens[role]}"}

    def audit() -> list:
        """The pii.search entries, oldest first, their details read."""
        with app.app_context():
            entries = console_session().scalars(select(AuditEntry).where(AuditEntry.action == "pii.search")
                                                .order_by(AuditEntry.seq))
            return [SimpleNamespace(subject_type=e.subject_type, actor=e.actor, details=json.loads(e.details))
                    for e in entries]

    yield SimpleNamespace(app=app, client=app.test_client(), headers=headers, audit=audit, engine=dbs.target_engine)
    dbs.dispose()


def _search(shop, q: str, role: str = "agent", after: str = "", record: str = "customers"):
    return shop.client.get(f"/api/v1/records/{record}", query_string={"q": q, "after": after},
                           headers=shop.headers(role))


def _keys(response) -> list:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["key"] for item in response.get_json()["items"]]


def test_a_fragment_from_the_middle_of_an_email_finds_the_customer(shop):
    assert _keys(_search(shop, "weber.4990")) == [4]
    assert _keys(_search(shop, "WEBER.4990@MAIL")) == [4]  # case does not matter, as agents type it


def test_a_name_and_a_phone_number_are_found_by_a_part(shop):
    assert _keys(_search(shop, "quibblefor")) == [5]
    assert _keys(_search(shop, "4990 12")) == [4]


def test_exact_matches_come_first_then_prefixes_then_substrings(shop):
    assert _keys(_search(shop, "kim.weber@shop.example")) == [3, 1, 2]


def test_paging_runs_across_the_steps_and_never_repeats_a_row(shop):
    first = _search(shop, "pagesub")
    second = _search(shop, "pagesub", after=first.get_json()["next"])
    keys = _keys(first) + _keys(second)
    assert second.get_json()["next"] is None and len(_keys(first)) == 25
    assert keys == list(range(100, 110)) + list(range(200, 230))


def _walk(shop, q: str) -> list:
    keys, after = [], ""
    for _page in range(10):
        response = _search(shop, q, after=after)
        keys += _keys(response)
        after = response.get_json()["next"]
        if not after:
            return keys
    raise AssertionError("more than 10 pages")


def test_a_row_an_earlier_step_found_is_not_repeated_on_a_later_page(shop):
    # The prefix step's 30 rows run onto page 2, where the substring step would find the first 25 again.
    assert _walk(shop, "dupx") == list(range(300, 331))
    # "weber" is in the email and the name of customer 4: the email step finds it, the name step must not again.
    assert sorted(_walk(shop, "weber")) == [1, 2, 3, 4] and len(_walk(shop, "weber")) == 4


def test_too_short_a_fragment_is_refused_naming_q_where_only_substring_keys_would_answer(shop):
    response = _search(shop, "ab", record="shipments")
    assert response.status_code == 400 and "q" in response.get_json()["error"]["fields"]
    assert "three letters or digits" in response.get_json()["error"]["message"]
    assert _keys(_search(shop, "we")) == []  # customers: the exact and prefix keys still answer


def test_a_role_that_may_not_reveal_cannot_search_inside_personal_data(shop):
    for fragment in ("weber.4990", "kim.weber@shop.ex"):  # a part inside, and the start: both spell values out
        response = _search(shop, fragment, role="product_owner")
        assert response.status_code == 403, response.get_data(as_text=True)
        assert "items" not in response.get_json() and "q" in response.get_json()["error"]["fields"]
    assert _keys(_search(shop, "weber.4990", role="lead")) == [4]
    # A whole email still finds its customer, masked; the search is audited.
    before = len(shop.audit())
    found = _search(shop, "kim.weber@shop.example", role="product_owner")
    assert _keys(found) == [3] and "kim.weber@shop.example" not in found.get_data(as_text=True)
    entries = shop.audit()
    assert len(entries) == before + 1 and entries[-1].details["kinds"] == ["exact"]


def test_a_search_inside_personal_data_is_audited_masked(shop):
    before = len(shop.audit())
    assert _keys(_search(shop, "weber.4990", role="agent")) == [4]
    entry = shop.audit()[-1]
    assert len(shop.audit()) == before + 1 and entry.subject_type == "customers"
    assert entry.details["kinds"] == ["substring"] and entry.details["partial"] is True
    assert entry.details["matches"] == 1 and entry.details["query"] == "w•••"
    assert "weber.4990" not in str(entry.details) and len(entry.details["query_digest"]) == 64


def test_a_search_that_matched_no_personal_data_is_not_audited(shop):
    before = len(shop.audit())
    assert _keys(_search(shop, "nobody-has-this")) == []
    assert len(shop.audit()) == before


def test_the_index_follows_inserts_updates_and_deletes(shop):
    table = Customer.__table__
    with shop.engine.begin() as conn:
        conn.execute(insert(table), [_customer(9001, "moved.xylophone@trigger.example")])
    assert _keys(_search(shop, "xylophone")) == [9001]
    with shop.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == 9001).values(email="moved.vibraphone@trigger.example"))
    assert _keys(_search(shop, "xylophone")) == [] and _keys(_search(shop, "vibraphone")) == [9001]
    with shop.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id == 9001))
    assert _keys(_search(shop, "vibraphone")) == []


def test_the_records_list_names_substring_keys_among_the_search_columns(shop):
    records = {r["name"]: r for r in shop.client.get("/api/v1/records", headers=shop.headers("agent"))
               .get_json()["records"]}
    assert records["customers"]["search"] == ["id", "email", "name", "phone"]
    assert records["shipments"]["search"] == ["id", "postcode", "tracking_number"]


def test_a_shipment_is_found_by_part_of_its_postcode(shop):
    with shop.engine.begin() as conn:
        conn.execute(insert(Order.__table__), [{"id": 1, "customer_id": 4, "status": "paid", "currency": "EUR",
                                                "total_cents": 100, "refunded_cents": 0, "created_at": WHEN,
                                                "updated_at": WHEN, "status_changed_at": WHEN}])
        conn.execute(insert(Shipment.__table__), [
            {"id": 7, "order_id": 1, "status": "shipped", "recipient_name": "Anna Weber", "line1": "1 Road",
             "city": "London", "postcode": "SW1A 2AA", "country": "GB", "tracking_number": "TRK000123456"}])
    assert _keys(_search(shop, "a 2aa", record="shipments")) == [7]
    assert _keys(_search(shop, "123456", record="shipments")) == [7]
