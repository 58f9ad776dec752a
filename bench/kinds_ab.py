"""A/B of the customers searches with and without the columns' kinds (`holds`), in one process, per request.

    python -m bench.kinds_ab --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_x --customers 100000

Loads the shop as the lookup suite does (bench/lookup.py), then fetches each search page in rotation: the
record as declared (steps whose column cannot hold the text left out) and the same record with `holds`
emptied (every substring step runs), alternating which goes first. Both must show the same rows. Reports
the median wall and CPU (this process's) per request, and the ratio; on PostgreSQL on this machine, also the
CPU the shop's backends spent per request on each side (from /proc, summed over the run: a request takes
less than the clock tick).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

from sqlalchemy import text

from bench import pages
from bench.harness import BenchContext
from bench.lookup import build_app, logged_in_client, pick_subjects

ROW = re.compile(r'href="/admin/records/customers/(\d+)"')
TICK = os.sysconf("SC_CLK_TCK")


def backend_ticks(pids: list[int]) -> int:
    """utime + stime of the PostgreSQL backends, in clock ticks."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    ctx = BenchContext(db=args.db, customers=args.customers, seed=1, reps=0, warmup=0, budget_s=0,
                       data_dir=Path("bench/data"))
    ctx.load_shop().dispose()
    app, _stock = build_app(ctx, ctx.shop_url())
    subjects = pick_subjects(app)
    client = logged_in_client(app)
    record = app.extensions["product_schema"].record("customers").record
    declared = dict(record.holds)
    searches = {"exact email": subjects["email"], "email prefix": subjects["prefix"],
                "substring": subjects["fragment"]}
    sides = {"all steps": {}, "kinds": declared}
    samples = {(name, side): ([], []) for name in searches for side in sides}
    backend = dict.fromkeys(samples, 0)
    target = app.extensions["console_db"].target_engine
    pids: list[int] = []
    for round_ in range(args.rounds + 10):
        for name, q in searches.items():
            shown = {}
            for side in (list(sides) if round_ % 2 else list(reversed(sides))):
                record.holds = sides[side]
                ticks = backend_ticks(pids)
                wall, cpu = time.perf_counter(), time.process_time()
                html = client.get(pages.search(q)).get_data(as_text=True)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                backend[name, side] += backend_ticks(pids) - ticks
                shown[side] = ROW.findall(html)
                if round_ >= 10:  # the first rounds warm caches and prebuilt statements
                    samples[name, side][0].append(wall * 1000)
                    samples[name, side][1].append(cpu * 1000)
            if len(set(map(tuple, shown.values()))) != 1 or not shown["kinds"]:
                raise SystemExit(f"{name} {q!r}: the sides show different rows: {shown}")
        if round_ == 9 and target.dialect.name == "postgresql":  # the pool's connections are open by now
            backend = dict.fromkeys(samples, 0)
            with target.connect() as conn:
                pids = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                              "AND backend_type = 'client backend'")).scalars())
    record.holds = declared
    print(f"load average {os.getloadavg()}; {args.rounds} rounds; q = {searches}")
    for name in searches:
        (wall_a, cpu_a), (wall_b, cpu_b) = samples[name, "all steps"], samples[name, "kinds"]
        print(f"{name}: wall {statistics.median(wall_a):.2f} -> {statistics.median(wall_b):.2f} ms "
              f"({statistics.median(wall_a) / statistics.median(wall_b):.2f}x), CPU {statistics.median(cpu_a):.2f} "
              f"-> {statistics.median(cpu_b):.2f} ms ({statistics.median(cpu_a) / statistics.median(cpu_b):.2f}x)"
              + (f", PostgreSQL CPU {_per(backend[name, 'all steps'], args.rounds):.2f} -> "
                 f"{_per(backend[name, 'kinds'], args.rounds):.2f} ms" if pids else ""))


def _per(ticks: int, requests: int) -> float:
    return ticks / TICK * 1000 / requests


if __name__ == "__main__":
    main()
