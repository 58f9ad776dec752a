"""The bulk suite: a bulk of `unlock_account` items against the bare conditional UPDATE of the same rows.

Each side unlocks its own customers, locked just before by one UPDATE. The bare side runs
`UPDATE customers SET status='active', failed_login_count=0, updated_at=now WHERE email IN (...) AND
status='locked'` in batches of the size a worker claims (console.bulk.settings.CHUNK), one commit per
batch. The console side requests a bulk (every item checked and decided, one commit with its audit
entry: timed on its own), then works it through: in this process (the embedded worker's path), and,
when Redis answers at BENCH_REDIS_URL, with 1 and 2 `support-console worker` processes. Every item is
a run of the runner with its own audit intent and outcome in the hash chain.

Goal (issue 16): >= 500 items/s on PostgreSQL with 2 workers.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select, update

from bench.harness import BenchContext, SuiteResult, Table, Target
from bench.http_app import AGENT, AUDIT_KEY, CUSTOMERS, SECRET_KEY, create_bench_app, prepare_console
from bench.tasks import lock_customers, unlock_leftovers
from console.bulk.models import OPEN_ITEMS, BulkItem
from console.bulk.service import request_bulk
from console.bulk.settings import CHUNK
from console.bulk.working import work_bulk
from console.auth.services import find_user
from console.db import console_session, expect_writes, utcnow

ITEMS, QUICK_ITEMS = 10_000, 500
GOAL_ITEMS_PER_S = 500
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PROJECT = Path(__file__).resolve().parents[1]
REASON = "Benchmark: accounts locked by a bad deploy"


def bare(engine, emails: list[str]) -> float:
    started = time.perf_counter()
    for first in range(0, len(emails), CHUNK):
        with engine.begin() as conn:
            conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.email.in_(emails[first:first + CHUNK]),
                                                 CUSTOMERS.c.status == "locked")
                         .values(status="active", failed_login_count=0, updated_at=utcnow()))
    return time.perf_counter() - started


def _request(app, emails: list[str], ticket: str) -> tuple[int, float]:
    started = time.perf_counter()
    with app.app_context():
        expect_writes()
        bulk = request_bulk("unlock_account", [{"email": email} for email in emails], ticket, REASON,
                            find_user(console_session(), AGENT), source="cli")
    return bulk.id, time.perf_counter() - started


def _open_items(app, bulk_id: int) -> int:
    with app.app_context():
        return console_session().scalar(select(func.count()).select_from(BulkItem).where(
            BulkItem.bulk_id == bulk_id, BulkItem.status.in_(OPEN_ITEMS)))


def embedded(app, emails: list[str], ticket: str) -> tuple[float, float]:
    bulk_id, requested = _request(app, emails, ticket)
    started = time.perf_counter()
    with app.app_context():
        expect_writes()
        work_bulk(bulk_id)
    return requested, time.perf_counter() - started


def with_workers(app, workers: int, emails: list[str], ticket: str, env: dict) -> tuple[float, float]:
    app.config["QUEUE_URL"] = REDIS_URL
    app.extensions.pop("bulk_redis", None)
    Redis.from_url(REDIS_URL).flushdb()
    processes = [subprocess.Popen([sys.executable, "-c", "from console.cli import main; main()", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        time.sleep(2.0)  # the workers are up before the clock starts
        bulk_id, requested = _request(app, emails, ticket)
        started = time.perf_counter()
        while _open_items(app, bulk_id):
            time.sleep(0.05)
        return requested, time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a worker blocked in Redis after a warm shutdown request
                process.kill()
                process.wait(timeout=15)
        app.config["QUEUE_URL"] = ""


def _redis_answers() -> bool:
    try:
        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def run(ctx: BenchContext) -> SuiteResult:
    shop = ctx.load_shop()
    console_url, shop_url = ctx.database_url("console_bulk"), ctx.shop_url()
    app = create_bench_app(console_url, shop_url)
    app.config["QUEUE_URL"] = ""
    prepare_console(app, {AGENT: "agent"})
    count = QUICK_ITEMS if ctx.quick else ITEMS
    env = {**os.environ, "CONSOLE_DATABASE_URL": console_url, "TARGET_DATABASE_URL": shop_url,
           "SECRET_KEY": SECRET_KEY, "CONSOLE_AUDIT_KEY": AUDIT_KEY, "CONSOLE_QUEUE_URL": REDIS_URL,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    sides = [("embedded (this process)", lambda emails, ticket: embedded(app, emails, ticket))]
    if _redis_answers():
        sides += [(f"{n} RQ worker{'s' if n > 1 else ''}",
                   lambda emails, ticket, n=n: with_workers(app, n, emails, ticket, env)) for n in (1, 2)]
    table = Table(f"{count:,} unlock_account items, each an audited run; bare: conditional UPDATE in batches of {CHUNK}",
                  ["side", "request (s)", "work (s)", "items/s", "ms per item", "x bare"])
    stamp = time.strftime("%Y%m%d%H%M%S")
    rates: dict[str, float] = {}
    customers: list = []
    try:
        customers = lock_customers(shop, count)
        bare_s = bare(shop, [email for _, email in customers])
        table.rows.append(["bare UPDATE", "", round(bare_s, 3), round(count / bare_s, 1),
                           round(1000 * bare_s / count, 3), 1.0])
        for name, side in sides:
            customers = lock_customers(shop, count)
            requested, worked = side([email for _, email in customers], f"BENCH-BULK-{stamp}-{len(rates)}")
            rates[name] = count / worked
            table.rows.append([name, round(requested, 2), round(worked, 2), round(rates[name], 1),
                               round(1000 * worked / count, 3), round(worked / bare_s, 1)])
    finally:
        unlock_leftovers(shop, customers)
        app.extensions["console_db"].dispose()
        shop.dispose()
    best = rates.get("2 RQ workers")
    target = Target("items per second with 2 RQ workers (each item audited)", f">= {GOAL_ITEMS_PER_S}",
                    f"{best:,.1f}" if best else "not measured (no Redis)", bool(best and best >= GOAL_ITEMS_PER_S))
    return SuiteResult("bulk", facts={**ctx.facts, "items": count, "load_average_after": os.getloadavg()},
                       tables=[table], targets=[target])
