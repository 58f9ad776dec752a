"""The calls suite: Python function calls per request and per audited run, counted by cProfile.

Timings on a shared VM move from run to run; the number of Python calls a request makes does not,
for the same code, data and libraries, so it compares two revisions where timings cannot. It is
what the pages and runs cost here: their SQL executes in a small part of their time (RESULTS.md).

Counted after a warm-up: the customers list (page 1), the customer page and the orders list sorted
by total (the console's side of the worst stock sort), logged in as an agent, against the benchmark's
bare JSON route for the same customer (bench/http_app.py), whose own count is a row of its own; an
audited `unlock_account` run through the runner against the same change in bare SQLAlchemy
(bench/tasks.py), each on a different locked customer. The pages' URLs come from bench/pages.py.
"""
from __future__ import annotations

import cProfile
import pstats
from datetime import datetime
from typing import Callable

from bench import lookup, pages
from bench.harness import BenchContext, SuiteResult, Table
from bench.http_app import AGENT, BARE_PREFIX, add_bare_route, create_bench_app, prepare_console
from bench.tasks import bare_unlock, console_unlock, lock_customers, unlock_leftovers

WARMUP = 3
TIMES, QUICK_TIMES = 50, 10


def calls_per_call(call: Callable[[], object], times: int) -> float:
    """The Python calls (cProfile's total, primitive or not) that one `call()` makes, on average."""
    for _ in range(WARMUP):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        for _ in range(times):
            call()
    finally:
        profiler.disable()
    return pstats.Stats(profiler).total_calls / times


def _getter(client, url: str) -> Callable[[], None]:
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
    return get


def run(ctx: BenchContext) -> SuiteResult:
    shop = ctx.load_shop()
    app = create_bench_app(ctx.database_url("console_calls"), ctx.shop_url())
    add_bare_route(app)
    prepare_console(app, {lookup.AGENT: "agent", AGENT: "agent"})
    times = QUICK_TIMES if ctx.quick else TIMES
    customer_id = lookup.pick_subjects(app)["customer_id"]
    client = lookup.logged_in_client(app)
    bare_route = calls_per_call(_getter(client, f"{BARE_PREFIX}{customer_id}"), times)
    rows = [[f"{name} (vs the bare JSON route)", round(calls_per_call(_getter(client, url), times)), round(bare_route)]
            for name, url in (("customers list, page 1", pages.CUSTOMERS),
                              ("customer page", pages.customer(customer_id)),
                              ("orders list sorted by total", pages.listing("orders", sort="-total_cents")))]
    rows.append(["bare JSON route, one row by key (itself)", round(bare_route), round(bare_route)])
    customers = lock_customers(shop, 2 * (WARMUP + times))
    queue = iter(customers)
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    tickets = (f"CALLS-{stamp}-{n}" for n in range(len(customers)))
    try:
        bare = calls_per_call(lambda: bare_unlock(shop, next(queue)[1]), times)
        audited = calls_per_call(lambda: console_unlock(app, next(queue)[1], next(tickets)), times)
    finally:
        unlock_leftovers(shop, customers)
        app.extensions["console_db"].dispose()
        shop.dispose()
    rows.append(["audited unlock_account run (vs the bare change)", round(audited), round(bare)])
    for row in rows:
        row.append(round(row[1] / row[2], 2))
    table = Table(f"Python calls per request or run, the mean of {times} after {WARMUP} untimed",
                  ["what", "console", "bare", "console ÷ bare"], rows)
    return SuiteResult("calls", facts={**ctx.facts, "customer_id": customer_id}, tables=[table])
