"""Run benchmark suites: `python -m bench --db sqlite --customers 1000000`.

Each suite in SUITES is a `run(ctx) -> SuiteResult` function, imported only when selected, so
adding one is a module in bench/ and a line here. The results print as Markdown and are written
as JSON to bench/out/ with the machine, the date and the command.
"""
from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.harness import (DEFAULT_DATA_DIR, QUICK_CUSTOMERS, BenchContext, drop_mysql_database, git_revision,
                           machine, markdown, raise_priority)

# name -> "module:function"; the function takes a BenchContext and returns a SuiteResult.
# The memory suite comes after the timed ones: it reuses the databases they fill. The calls suite counts,
# it does not time.
SUITES = {
    "lookup": "bench.lookup:run",
    "http": "bench.http_load:run",
    "tasks": "bench.tasks:run",
    "dashboard": "bench.deflection:suite",
    "verify": "bench.audit_verify:suite",
    "memory": "bench.memory:run",
    "calls": "bench.calls:run",
    "inspect": "bench.inspect_schema:run",
    "bulk": "bench.bulk:run",
}
OUT_DIR = Path(__file__).resolve().parent / "out"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite",
                        help="'sqlite' (files under --data-dir) or a PostgreSQL URL such as "
                             "postgresql+psycopg://postgres@127.0.0.1:5432/bench (created if missing)")
    parser.add_argument("--target", "--target-db", dest="target_db", metavar="URL",
                        help="put the shop (the target database) on this MySQL/MariaDB server instead, e.g. "
                             "mysql+pymysql://root@127.0.0.1:3306/bench (created if missing, kept for the next run "
                             "unless --drop-target); the console's own database stays on --db")
    parser.add_argument("--drop-target", action="store_true",
                        help="drop the --target database, and those named after it (<name>_inspect200), at the end of the run")
    parser.add_argument("--customers", type=int, default=1_000_000, help="generated customers (about 3 orders each)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_CUSTOMERS:,} customers (tickets, audit entries), fewer samples, short HTTP "
                             "rounds: a smoke test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="run only these (default: all)")
    parser.add_argument("--reps", type=int, default=30, help="timed A/B pairs per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls of each side first")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds one side may spend on a scenario before it stops early (at least 5 samples)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where SQLite databases are kept")
    parser.add_argument("--profile", metavar="SCENARIO",
                        help="profile the console side of the lookup scenarios whose name contains this, "
                             "instead of timing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the JSON results go")
    parser.add_argument("--nice", type=int, default=0,
                        help="run at this niceness, PostgreSQL backends included (e.g. -10 as root on a busy machine)")
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.reps, args.warmup, args.budget = QUICK_CUSTOMERS, 5, 1, 5.0
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    if args.db != "sqlite" and not args.db.startswith("postgresql"):
        parser.error("--db is 'sqlite' or a postgresql+psycopg:// URL")
    if args.target_db and not args.target_db.startswith(("mysql", "mariadb")):
        parser.error("--target is a mysql+pymysql:// URL")
    if args.drop_target and not args.target_db:
        parser.error("--drop-target needs --target")
    if args.profile and args.suite and args.suite != ["lookup"]:
        parser.error("--profile applies to the lookup suite only")
    if args.profile:
        args.suite = ["lookup"]
    return args


def run_suite(name: str, ctx: BenchContext):
    module, function = SUITES[name].split(":")
    return getattr(importlib.import_module(module), function)(ctx)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    started = datetime.now(timezone.utc)
    if args.nice:
        raise_priority(args.nice)
    report = {"command": command, "date": started.isoformat(timespec="seconds"), "revision": git_revision(),
              "machine": machine(), "db": "sqlite" if args.db == "sqlite" else "postgresql",
              "target_db": "mysql" if args.target_db else None,
              "customers": args.customers, "seed": args.seed, "niceness": args.nice, "suites": []}
    print(f"{command}\n{report['machine']['cpu']}, {report['machine']['cores']} cores, "
          f"{report['machine']['memory_gb']} GB; {started:%Y-%m-%d %H:%M} UTC", flush=True)
    try:
        for name in args.suite or list(SUITES):
            ctx = BenchContext(db=args.db, customers=args.customers, seed=args.seed, reps=args.reps,
                               warmup=args.warmup, budget_s=args.budget, data_dir=args.data_dir, profile=args.profile,
                               quick=args.quick, target_db=args.target_db)
            clock = time.perf_counter()
            result = run_suite(name, ctx)
            result.facts["seconds"] = round(time.perf_counter() - clock, 1)
            report["suites"].append(result.to_json())
            if result.comparisons or result.tables or result.targets:
                print("\n" + markdown(result) + "\n", flush=True)
    finally:
        if args.drop_target:
            drop_mysql_database(args.target_db)
    if args.profile:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    suites = "-".join(args.suite) if args.suite else "all"
    databases = report["db"] + ("-target-mysql" if args.target_db else "")
    path = args.out / f"{suites}-{databases}-{args.customers}-{started:%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
