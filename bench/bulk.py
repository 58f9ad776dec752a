"""The bulk suite: bulks of `unlock_account` and of small `refund_order` items against the bare conditional UPDATE.

For each task, the bare side runs the task's conditional UPDATE of the same rows in batches of the size a
worker claims and runs as one batch (console.bulk.settings.CHUNK), one commit per batch:
`UPDATE customers SET status='active', ... WHERE email IN (...) AND status='locked'`, and
`UPDATE orders SET refunded_cents = refunded_cents + 1, ... WHERE id IN (...) AND total_cents - refunded_cents >= 1`.
The console side requests a bulk (every item checked and decided, one commit with its audit entry: timed on
its own), then works it through: in this process (the embedded worker's path) and, when Redis answers at
BENCH_REDIS_URL, with 1 and 2 `support-console worker` processes. Every item is a run of its own, with its
audit intent and outcome in the hash chain; the refunds are the demo agent's (1 cent each, so the caps are
counted for every item without any needing approval).

Beside the workers' throughput: each worker's peak RSS (VmHWM) over the bulk, and the time
`GET /api/v1/bulk/<id>` takes, asked every 50 ms from this process while the workers run.

Goals (issue 16): >= 500 items/s on PostgreSQL with 2 workers; a worker's peak RSS < 300 MB for a
10,000-item bulk; the bulk's status answers in < 20 ms while it runs.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy import exists, func, select, update

from admin_tasks.shop_schema import ShopBase
from bench.harness import BenchContext, SuiteResult, Table, Target
from bench.http_app import AGENT, AUDIT_KEY, CUSTOMERS, SECRET_KEY, create_bench_app, prepare_console
from bench.tasks import lock_customers, unlock_leftovers
from console.auth.services import create_token, find_user
from console.bulk.models import OPEN_ITEMS, BulkItem
from console.bulk.service import request_bulk
from console.bulk.settings import CHUNK
from console.bulk.working import work_bulk
from console.db import console_session, expect_writes, utcnow

ITEMS, QUICK_ITEMS = 10_000, 500
GOAL_ITEMS_PER_S = 500
GOAL_RSS_MB = 300
GOAL_STATUS_MS = 20
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PROJECT = Path(__file__).resolve().parents[1]
ORDERS = ShopBase.metadata.tables["orders"]
PAYMENTS = ShopBase.metadata.tables["payments"]


@dataclass
class Workload:
    task: str
    reason: str
    prepare: Callable  # (shop engine, count) -> [(row key, item params)], made ready for one side
    bare: Callable  # (shop engine, keys of one batch) -> None: the conditional UPDATE, committed
    cleanup: Callable  # (shop engine, prepared) -> None


def _unlock_bare(engine, emails: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.email.in_(emails), CUSTOMERS.c.status == "locked")
                     .values(status="active", failed_login_count=0, updated_at=utcnow()))


def _locked(engine, count: int) -> list[tuple]:
    return [(email, {"email": email}) for _, email in lock_customers(engine, count)]


def _unlock_left(engine, prepared: list[tuple]) -> None:
    with engine.begin() as conn:
        ids = conn.scalars(select(CUSTOMERS.c.id).where(CUSTOMERS.c.email.in_([key for key, _ in prepared]))).all()
    unlock_leftovers(engine, [(customer_id, "") for customer_id in ids])


def _refundable(engine, count: int) -> list[tuple]:
    """EUR orders charged (a captured payment) with at least 1 cent left to refund; each side refunds 1 cent."""
    captured = exists().where(PAYMENTS.c.order_id == ORDERS.c.id, PAYMENTS.c.status == "captured")
    with engine.connect() as conn:
        ids = conn.scalars(select(ORDERS.c.id).where(ORDERS.c.currency == "EUR", captured,
                                                      ORDERS.c.total_cents - ORDERS.c.refunded_cents >= 100)
                           .order_by(ORDERS.c.id).limit(count)).all()
    if len(ids) < count:
        raise RuntimeError(f"the shop has only {len(ids)} refundable orders; the bulk suite needs {count} "
                           "(use more --customers)")
    return [(order_id, {"order_id": order_id, "amount_cents": 1}) for order_id in ids]


def _refund_bare(engine, ids: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(update(ORDERS).where(ORDERS.c.id.in_(ids), ORDERS.c.total_cents - ORDERS.c.refunded_cents >= 1)
                     .values(refunded_cents=ORDERS.c.refunded_cents + 1, updated_at=utcnow()))


WORKLOADS = [
    Workload("unlock_account", "Benchmark: accounts locked by a bad deploy", _locked, _unlock_bare, _unlock_left),
    Workload("refund_order", "Benchmark: orders charged twice", _refundable, _refund_bare, lambda *_: None),
]


def bare(engine, workload: Workload, keys: list) -> float:
    started = time.perf_counter()
    for first in range(0, len(keys), CHUNK):
        workload.bare(engine, keys[first:first + CHUNK])
    return time.perf_counter() - started


@dataclass
class Side:
    requested: float
    worked: float
    rss_mb: list[float] | None = None
    status_ms: list[float] | None = None


def _request(app, workload: Workload, items: list[dict], ticket: str) -> tuple[int, float]:
    started = time.perf_counter()
    with app.app_context():
        expect_writes()
        bulk = request_bulk(workload.task, items, ticket, workload.reason, find_user(console_session(), AGENT),
                            source="cli")
    return bulk.id, time.perf_counter() - started


def _open_items(app, bulk_id: int) -> int:
    with app.app_context():
        return console_session().scalar(select(func.count()).select_from(BulkItem).where(
            BulkItem.bulk_id == bulk_id, BulkItem.status.in_(OPEN_ITEMS)))


def embedded(app, workload: Workload, items: list[dict], ticket: str) -> Side:
    bulk_id, requested = _request(app, workload, items, ticket)
    started = time.perf_counter()
    with app.app_context():
        expect_writes()
        work_bulk(bulk_id)
    return Side(requested, time.perf_counter() - started)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB; 0 where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _token_headers(app) -> dict:
    with app.app_context():
        session = console_session()
        token = create_token(session, find_user(session, AGENT), "bench bulk status")
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def _wait_for_workers(count: int, processes: list, timeout: float = 120.0) -> None:
    """Until `count` RQ workers listen on the queue's Redis (each registers after its first sweep; a loaded
    machine takes seconds to start one)."""
    redis = Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=redis) < count:
        if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
            raise RuntimeError(f"{count} RQ workers did not start within {timeout:.0f} s")
        time.sleep(0.1)


def with_workers(app, workers: int, workload: Workload, items: list[dict], ticket: str, env: dict) -> Side:
    app.config["QUEUE_URL"] = REDIS_URL
    app.extensions.pop("bulk_redis", None)
    Redis.from_url(REDIS_URL).flushdb()
    headers, client = _token_headers(app), app.test_client()
    processes = [subprocess.Popen([sys.executable, "-c", "from console.cli import main; main()", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        _wait_for_workers(workers, processes)  # the clock starts once they are up
        bulk_id, requested = _request(app, workload, items, ticket)
        started = time.perf_counter()
        status_ms = []
        while _open_items(app, bulk_id):
            asked = time.perf_counter()
            answer = client.get(f"/api/v1/bulk/{bulk_id}", headers=headers)
            status_ms.append(1000 * (time.perf_counter() - asked))
            if answer.status_code != 200:
                raise RuntimeError(f"GET /api/v1/bulk/{bulk_id}: {answer.status_code} {answer.get_data(as_text=True)}")
            time.sleep(0.05)
        worked = time.perf_counter() - started
        return Side(requested, worked, [_peak_rss_mb(p.pid) for p in processes], status_ms)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a worker blocked in Redis after a warm shutdown request
                process.kill()
                process.wait(timeout=15)
        try:  # the suite's own database, left empty: no worker's registration stays behind
            Redis.from_url(REDIS_URL).flushdb()
        except RedisError:
            pass
        app.config["QUEUE_URL"] = ""


def _redis_answers() -> bool:
    try:
        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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
    sides = [("embedded (this process)", lambda w, items, ticket: embedded(app, w, items, ticket))]
    if _redis_answers():
        sides += [(f"{n} RQ worker{'s' if n > 1 else ''}",
                   lambda w, items, ticket, n=n: with_workers(app, n, w, items, ticket, env)) for n in (1, 2)]
    table = Table(f"{count:,} items a bulk, each an audited run; bare: the conditional UPDATE in batches of {CHUNK}",
                  ["task", "side", "request (s)", "work (s)", "items/s", "ms per item", "x bare",
                   "worker peak RSS (MB)", "GET bulk p50 / p95 / max (ms)"])
    stamp = time.strftime("%Y%m%d%H%M%S")
    rates: dict[tuple[str, str], float] = {}
    peaks: list[float] = []
    status: list[float] = []
    try:
        for workload in WORKLOADS:
            prepared = workload.prepare(shop, count)
            try:
                bare_s = bare(shop, workload, [key for key, _ in prepared])
            finally:
                workload.cleanup(shop, prepared)
            table.rows.append([workload.task, "bare UPDATE", "", round(bare_s, 3), round(count / bare_s, 1),
                               round(1000 * bare_s / count, 3), 1.0, "", ""])
            for name, side in sides:
                prepared = workload.prepare(shop, count)
                try:
                    got = side(workload, [params for _, params in prepared], f"BENCH-BULK-{stamp}-{len(rates)}")
                finally:
                    workload.cleanup(shop, prepared)
                rates[(workload.task, name)] = count / got.worked
                latency = ""
                if got.status_ms:
                    status += got.status_ms
                    latency = " / ".join(f"{value:.1f}" for value in (
                        statistics.median(got.status_ms), _percentile(got.status_ms, 0.95), max(got.status_ms)))
                peaks += got.rss_mb or []
                table.rows.append([workload.task, name, round(got.requested, 2), round(got.worked, 2),
                                   round(count / got.worked, 1), round(1000 * got.worked / count, 3),
                                   round(got.worked / bare_s, 1),
                                   " / ".join(f"{mb:.0f}" for mb in got.rss_mb) if got.rss_mb else "", latency])
    finally:
        app.extensions["console_db"].dispose()
        shop.dispose()
    targets = []
    for workload in WORKLOADS:
        best = rates.get((workload.task, "2 RQ workers"))
        targets.append(Target(f"{workload.task}: items per second with 2 RQ workers (each item audited)",
                              f">= {GOAL_ITEMS_PER_S}", f"{best:,.1f}" if best else "not measured (no Redis)",
                              bool(best and best >= GOAL_ITEMS_PER_S)))
    targets.append(Target(f"a worker's peak RSS over a {count:,}-item bulk", f"< {GOAL_RSS_MB} MB",
                          f"{max(peaks):.0f} MB" if peaks else "not measured", bool(peaks and max(peaks) < GOAL_RSS_MB)))
    targets.append(Target("GET /api/v1/bulk/<id> while a bulk runs (p95)", f"< {GOAL_STATUS_MS} ms",
                          f"{_percentile(status, 0.95):.1f} ms (max {max(status):.1f})" if status else "not measured",
                          bool(status and _percentile(status, 0.95) < GOAL_STATUS_MS)))
    return SuiteResult("bulk", facts={**ctx.facts, "items": count, "load_average_after": os.getloadavg()},
                       tables=[table], targets=targets)
