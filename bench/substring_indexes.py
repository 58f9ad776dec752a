"""What substring search costs on one database: building its indexes, writing through them, and searching.

    python -m bench.substring_indexes --url postgresql+psycopg://postgres@127.0.0.1/scratch --customers 200000

The database must be empty (it gets the demo shop's tables). Customers are written without the
indexes, the indexes built (timed), 10,000 more written through them (timed beside 10,000 written
before), then fragments searched through the records' query layer (`find_page`, the first page):
a rare one (one row), a middling one (a few hundred) and a common one (every row).
A standalone script: its figures are quoted in docs/PRODUCTS.md, not gated.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from sqlalchemy import insert

from admin_tasks.shop.schema import Customer
from console.engines import make_engine
from console.product import search_index
from console.product.loading import load_product
from console.product.queries import find_page
from console.product.schema import ProductSchema

LAST = ["weber", "muller", "schmidt", "fischer", "meyer", "wagner", "becker", "schulz", "hoffmann", "koch",
        "richter", "klein", "wolf", "schroder", "neumann", "schwarz", "zimmermann", "braun", "kruger", "hofmann"]
FIRST = ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hannah", "jonas", "lena"]
DOMAINS = ["mail.example", "post.example", "inbox.example"]
WHEN = datetime(2026, 1, 1)
# One row ("anna.hofmann.4990@post.example"), a few hundred, and every row.
FRAGMENTS = {"rare": "hofmann.4990@", "middling": "weber.49", "common": "example"}


def customer(n: int) -> dict:
    first, last = FIRST[n % len(FIRST)], LAST[n // len(FIRST) % len(LAST)]
    return {"id": n, "email": f"{first}.{last}.{n}@{DOMAINS[n % 3]}", "name": f"{first.title()} {last.title()}",
            "phone": f"+49 151 {n:08d}", "status": "active", "email_confirmed": True, "failed_login_count": 0,
            "created_at": WHEN, "updated_at": WHEN}


def write(engine, start: int, count: int) -> float:
    began = time.perf_counter()
    with engine.begin() as conn:
        for batch in range(start, start + count, 5000):
            conn.execute(insert(Customer.__table__), [customer(n) for n in range(batch, min(batch + 5000,
                                                                                         start + count))])
    return time.perf_counter() - began


def analyze(engine) -> None:
    """Gather statistics as autovacuum would (PostgreSQL plans a LIKE from them; without, it guesses)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql({"postgresql": "VACUUM ANALYZE customers", "sqlite": "ANALYZE"}.get(
            engine.dialect.name, "ANALYZE TABLE customers"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.url)
    product = load_product("admin_tasks.shop")
    product.create_schema(engine)
    before = write(engine, 1, args.customers)
    tail = write(engine, args.customers + 1, 10_000)
    began = time.perf_counter()
    created = search_index.create_missing(engine, product)
    built = time.perf_counter() - began
    through = write(engine, args.customers + 10_001, 10_000)
    analyze(engine)
    print(f"{engine.dialect.name}, {args.customers:,} customers written in {before:.1f} s")
    print(f"  {len(created)} substring indexes built in {built:.1f} s")
    print(f"  10,000 customers written in {tail:.2f} s without them, {through:.2f} s through them")
    reflected = ProductSchema(product, engine).record("customers")
    with engine.connect() as conn:
        for label, fragment in FRAGMENTS.items():
            timings = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                found = find_page(conn, reflected, q=fragment)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            print(f"  {label:9} {fragment!r:16} {len(found.rows):3} rows on page 1: "
                  f"p50 {statistics.median(timings):8.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1]:8.1f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()
