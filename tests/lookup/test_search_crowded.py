"""A substring most rows hold, on the record pages: the first page in key order without gathering every match, and a
count that takes each row once (on MariaDB both go through the suffix side table's own statements)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from admin_tasks.shop.schema import Customer
from console.lookup import listing
from console.product.schema import PROBE_ROWS

MYSQL = ("mysql", "mariadb")
WHEN = datetime(2026, 1, 1)


def _customers(target_db, emails: list[str], start: int) -> list[int]:
    rows = [{"id": start + n, "email": email, "name": f"Crowd {n}", "phone": None, "status": "active",
             "email_confirmed": True, "failed_login_count": 0, "created_at": WHEN, "updated_at": WHEN}
            for n, email in enumerate(emails)]
    target_db.execute(insert(Customer.__table__), rows)
    target_db.flush()
    return [row["id"] for row in rows]


def test_a_text_most_rows_hold_lists_its_first_page_in_key_order_and_counts_to_the_bound(app, target_db, sql_log):
    ids = _customers(target_db, [f"member{n}.crowd@club.example" for n in range(PROBE_ROWS + 100)], 500_000)
    customers = app.extensions["product_schema"].record("customers")
    sql_log.statements.clear()
    found = listing.search(target_db.connection(), customers, "crowd@club")
    assert [row.id for row in found.page.rows] == ids[:listing.PAGE_SIZE]
    assert found.count == (1000, True)
    if target_db.get_bind().dialect.name in MYSQL:
        sent = [" ".join(statement.split()) for _database, statement, _ in sql_log.statements]
        # The page came from the bounded read in key order, and no statement gathered every candidate to sort.
        assert any("FORCE INDEX (PRIMARY)" in s and "ROWS EXAMINED" in s for s in sent), sent
        page_reads = [s for s in sent if "customers.id IN (SELECT" in s and "ORDER BY" in s]
        assert not page_reads, page_reads


def test_a_row_holding_the_text_twice_is_counted_once(app, target_db):
    # 30 rows, more than a page, so the search counts them; "wice" occurs twice in each email.
    _customers(target_db, [f"twice.{n}.twice@club.example" for n in range(30)], 600_000)
    customers = app.extensions["product_schema"].record("customers")
    found = listing.search(target_db.connection(), customers, "wice")
    assert len(found.page.rows) == listing.PAGE_SIZE
    assert found.count == (30, False)
