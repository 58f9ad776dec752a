"""A substring most rows hold, on the record pages: the first page in key order without gathering every match (on
MariaDB through a bounded read), nothing counted past the page, and each row listed once."""
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


def test_a_text_most_rows_hold_lists_its_first_page_in_key_order_and_counts_nothing(app, target_db, sql_log):
    ids = _customers(target_db, [f"member{n}.crowd@club.example" for n in range(PROBE_ROWS + 100)], 500_000)
    customers = app.extensions["product_schema"].record("customers")
    sql_log.statements.clear()
    found = listing.search(target_db.connection(), customers, "crowd@club")
    assert [row.id for row in found.page.rows] == ids[:listing.PAGE_SIZE]
    assert found.count == (listing.PAGE_SIZE, True)  # "More than 25 matches", read off the page
    sent = [" ".join(statement.split()) for _database, statement, _ in sql_log.statements]
    # MariaDB's one bounded look at the side tables (ReflectedRecord.crowded) decides the plan; no row is counted.
    assert not [s for s in sent if "count(" in s.lower() and "FROM customers" in s], sent
    if target_db.get_bind().dialect.name in MYSQL:
        # The page came from the bounded read in key order, and no statement gathered every candidate to sort.
        assert any("FORCE INDEX (PRIMARY)" in s and "ROWS EXAMINED" in s for s in sent), sent
        page_reads = [s for s in sent if "customers.id IN (SELECT" in s and "ORDER BY" in s]
        assert not page_reads, page_reads


def test_a_row_holding_the_text_twice_is_listed_once(app, target_db):
    # 30 rows, more than a page; "wice" occurs twice in each email (twice in MariaDB's suffix side table).
    ids = _customers(target_db, [f"twice.{n}.twice@club.example" for n in range(30)], 600_000)
    customers = app.extensions["product_schema"].record("customers")
    first = listing.search(target_db.connection(), customers, "wice")
    assert len(first.page.rows) == listing.PAGE_SIZE and first.count == (listing.PAGE_SIZE, True)
    second = listing.search(target_db.connection(), customers, "wice", direction="after", cursor=first.page.next_cursor)
    assert [row.id for row in first.page.rows + second.page.rows] == ids
    assert second.page.next_cursor is None and second.count is None
