"""A search on the record pages runs the product's steps (exact, prefix, substring), paged both ways across them."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from console.audit.models import AuditEntry
from console.lookup import listing
from tests.factories import CustomerFactory

Q = "weber.49@ex.com"


@pytest.fixture
def webers(target_db):
    """(kind of step that finds it, customer) in the order the search lists them."""
    made = [("exact", CustomerFactory(email=Q))]
    made += [("prefix", CustomerFactory(email=f"{Q}.{tld}")) for tld in ("br", "au")]
    made += [("substring", CustomerFactory(email=f"{who}.{Q}")) for who in ("kim", "ann", "bo")]
    CustomerFactory(email="someone.else@example.com")
    order = {"exact": 0, "prefix": 1, "substring": 2}
    return sorted(made, key=lambda found: (order[found[0]], found[1].email if found[0] == "prefix" else found[1].id))


def _walk(conn, customers, direction: str, size: int) -> list[list[tuple]]:
    pages, cursor = [], None
    while True:
        found = listing.search(conn, customers, Q, direction=direction, cursor=cursor, size=size)
        pages.append([(phase.kind, row.id) for phase, row in found.found])
        cursor = found.page.next_cursor if direction in ("first", "after") else found.page.prev_cursor
        if cursor is None:
            return pages
        direction = "after" if direction in ("first", "after") else "before"


@pytest.mark.parametrize("size", [2, 4])
def test_pages_forwards_and_backwards_cross_the_steps_and_agree(app, target_db, webers, size):
    customers = app.extensions["product_schema"].record("customers")
    expected = [(kind, customer.id) for kind, customer in webers]
    forwards = _walk(target_db.connection(), customers, "first", size)
    assert [entry for page in forwards for entry in page] == expected
    backwards = _walk(target_db.connection(), customers, "last", size)
    assert [entry for page in reversed(backwards) for entry in page] == expected
    assert all(len(page) == size for page in forwards[:-1]) and all(len(page) == size for page in backwards[:-1])
    # Page 1 says how many it shows and whether more follow; nothing past it is counted.
    assert listing.search(target_db.connection(), customers, Q, size=size).count == (size, True)
    assert listing.search(target_db.connection(), customers, Q, size=len(expected)).count == (len(expected), False)


def test_the_list_page_finds_a_substring_and_audits_it(client, login_as, webers, console_db):
    login_as("agent")
    html = client.get("/admin/records/customers/", query_string={"q": "n.weber"}).get_data(as_text=True)
    [ann] = [customer for _kind, customer in webers if customer.email.startswith("ann.")]
    assert f'href="/admin/records/customers/{ann.id}"' in html and "1 match" in html and ann.email not in html
    [entry] = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.search")).all()
    details = json.loads(entry.details)
    assert details["kinds"] == ["substring"] and details["partial"] and "n.weber" not in entry.details


def test_a_role_that_may_not_reveal_still_finds_a_whole_email(client, login_as, webers):
    login_as("product_owner")
    response = client.get("/admin/records/customers/", query_string={"q": Q})
    exact = webers[0][1]
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f'href="/admin/records/customers/{exact.id}"' in html
    assert all(f'href="/admin/records/customers/{c.id}"' not in html for kind, c in webers if kind != "exact")


def test_on_postgresql_a_page_is_one_statement_that_stops_when_the_page_is_full(app, target_db, webers, sql_log):
    """console.lookup.united: the steps are one UNION ALL read in turn; steps after a full page never run,
    and no part of it is planned in parallel (which would interleave the steps), however cheap parallel is."""
    if target_db.connection().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL sends the steps as one statement")
    customers = app.extensions["product_schema"].record("customers")
    found = listing.search(target_db.connection(), customers, Q, size=2)  # the exact match and both prefixes
    assert [phase.kind for phase, _row in found.found] == ["exact", "prefix"]
    [(statement, parameters)] = [(sql, p) for sql, p in sql_log.selects_with_parameters("target") if "UNION ALL" in sql]
    conn = target_db.connection()
    for setting in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size",
                    "min_parallel_index_scan_size"):
        conn.exec_driver_sql(f"SET LOCAL {setting} = 0")
    plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement,
                                                            parameters))
    assert "Gather" not in plan and "Parallel" not in plan, plan
    # Five steps (exact, prefix, and the substrings of the email, the name and the phone): the three substring
    # branches are never run, as the exact match and the prefixes fill the page and its one extra row.
    assert plan.count("Append") == 1 and plan.count("(never executed)") >= 3, plan


def test_the_home_search_asks_the_exact_keys_once_and_lists_what_the_search_lists(client, login_as, webers,
                                                                                  target_db, sql_log):
    """/find asks the exact keys first (one that finds one row lands on it); when they found nothing, the
    search after them starts at the prefix step instead of asking them again."""
    login_as("agent")
    typed = Q[:-2]  # no exact match: every weber is found by a prefix or a substring
    sql_log.statements.clear()
    listed = client.get("/admin/records/customers/", query_string={"q": typed}).get_data(as_text=True)
    searched = len(sql_log.selects("target"))
    sql_log.statements.clear()
    found = client.get("/admin/records/find", query_string={"q": typed}).get_data(as_text=True)
    # PostgreSQL: the exact keys' statement, then the search's; elsewhere the search's steps after the exact.
    united = target_db.connection().dialect.name == "postgresql"
    assert len(sql_log.selects("target")) == searched + united
    order = [f'href="/admin/records/customers/{customer.id}"' for _kind, customer in webers]
    assert [link for link in order if link in found] == order[:5] and [link for link in order if link in listed] == order
    assert found.index(order[0]) < found.index(order[4]) and listed.index(order[0]) < listed.index(order[5])
