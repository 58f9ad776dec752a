"""The memory suite: peak RSS of a page, a CSV export and audit verify over the big tables.

Each case runs in a fresh process (`python -m bench.memory CASE SPEC`) that builds the app, logs in
through the test client, does one thing and reports its peak resident set: VmHWM of its own
memory, and the largest of the worker processes it reaped (audit verify on SQLite uses some).
Not ru_maxrss of the child as its parent sees it: Linux carries the parent's peak over the
fork and exec into it, so every case would show this benchmark's own size. A streamed body is
consumed chunk by chunk and never kept. The "idle" case does nothing but log in: the difference
to it is what the work itself held in memory.

It reuses the databases of the other suites and fills those that are missing: the shop
(customers and orders), the ticket history of the dashboard suite, the audit trail of the
verify suite (which the export then appends to, with the same key, so it still verifies).

Target (issue 7): a page, a CSV export or audit verify over 1,000,000 rows streams, with peak RSS
under 300 MB.
"""
from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from bench import audit_verify, deflection, pages as console_pages
from bench.harness import BenchContext, SuiteResult, Table, Target, peak_rss_mb
from bench.http_app import AGENT, AUDIT_KEY, PASSWORD, create_bench_app, prepare_console
from console.db import utcnow
from console.deflection.dashboard import PANELS
from console.engines import make_engine

TARGET_MB = 300
LEAD = "lead@example.com"
OWNER = "po@example.com"
ROOT = Path(__file__).resolve().parent.parent


def login(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"login as {email} failed with {response.status_code}")


def fetch(client, path: str) -> tuple[int, int]:
    """GET a page or a download as a browser would, keeping no more than one chunk; return (bytes, lines)."""
    response = client.get(path, buffered=False)
    try:
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
        size = lines = 0
        for chunk in response.response:
            chunk = chunk.encode() if isinstance(chunk, str) else chunk
            size += len(chunk)
            lines += chunk.count(b"\n")
        return size, lines
    finally:
        response.close()


def case_main(case: str, spec: dict) -> dict:
    """One case, in this fresh process; return what it did."""
    from flask import Flask

    app: Flask = create_bench_app(spec["console"], spec["target"], audit_key=spec["audit_key"])
    client = app.test_client()
    login(client, spec["email"])
    done: dict = {"bytes": 0, "lines": 0}
    if case == "verify":
        result, _ = audit_verify.verify_once(app.extensions["console_db"].console_engine)
        if not result.ok:
            raise RuntimeError(f"verify failed: {result.summary}")
        done["entries"] = result.entries
    for path in spec["paths"]:
        size, lines = fetch(client, path)
        done["bytes"] += size
        done["lines"] += lines
    if spec.get("min_lines") and done["lines"] < spec["min_lines"]:
        raise RuntimeError(f"the export has {done['lines']:,} lines, fewer than {spec['min_lines']:,}: "
                           "it stopped early")
    done["self_peak_mb"] = high_water_mb()
    done["workers_peak_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return done


def high_water_mb(status: str | None = None) -> float:
    """VmHWM, the peak resident set of this process's own memory, from /proc/self/status."""
    status = Path("/proc/self/status").read_text() if status is None else status
    match = re.search(r"^VmHWM:\s+(\d+) kB$", status, re.M)
    if not match:
        raise RuntimeError("no VmHWM line in /proc/self/status: the memory suite needs Linux")
    return round(int(match.group(1)) / 1024, 1)


def measure_case(case: str, spec: dict) -> dict:
    """Run one case in a child process; return what it reports, with peak_mb over it and its workers."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.memory", case, json.dumps(spec)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"memory case {case} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {**found, "peak_mb": max(found["self_peak_mb"], found["workers_peak_mb"]),
            "seconds": round(time.perf_counter() - started, 1)}


def cases(ctx: BenchContext) -> list[tuple[str, str, dict]]:
    """(case, what, spec) for every case; fills the databases that are missing."""
    shop = ctx.load_shop()
    shop.dispose()
    shop_url = ctx.shop_url()
    lookup_console = ctx.database_url("console_memory")
    app = create_bench_app(lookup_console, shop_url)
    prepare_console(app, {AGENT: "agent"})
    app.extensions["console_db"].dispose()

    trail_url, entries = audit_verify.trail_url(ctx)
    trail = make_engine(trail_url)
    problem = audit_verify.prepare_trail(trail, entries, ctx.seed, appended_ok=True)
    trail.dispose()
    if problem:
        raise SystemExit(problem)
    app = create_bench_app(trail_url, shop_url, audit_key=audit_verify.KEY)
    prepare_console(app, {LEAD: "lead"})
    app.extensions["console_db"].dispose()

    tickets = deflection.QUICK_TICKETS if ctx.quick else deflection.FULL_TICKETS
    history_url = ctx.database_url(f"deflection_{tickets}_seed{ctx.seed}")
    app, count, _, _ = deflection.open_history(history_url, tickets, ctx.seed)
    prepare_console(app, {OWNER: "product_owner"})
    app.extensions["console_db"].dispose()
    today = utcnow().date()
    whole = f"?from={today - timedelta(days=deflection.DAYS)}&to={today}"

    pages = {"console": lookup_console, "target": shop_url, "audit_key": AUDIT_KEY, "email": AGENT}
    return [
        ("idle", "app built and logged in, nothing else (the floor)", {**pages, "paths": []}),
        ("customers", f"customers list: first and last page ({ctx.facts['customers_rows']:,} rows)",
         {**pages, "paths": [console_pages.CUSTOMERS, console_pages.listing("customers", page="last")]}),
        ("orders", f"orders list: first and last page ({ctx.facts['orders_rows']:,} rows)",
         {**pages, "paths": [console_pages.ORDERS, console_pages.listing("orders", page="last")]}),
        ("audit_export", f"audit CSV export of the whole trail ({entries:,}+ entries), streamed",
         {"console": trail_url, "target": shop_url, "audit_key": audit_verify.KEY, "email": LEAD,
          "paths": ["/admin/audit/export.csv"], "min_lines": entries + 1}),
        ("deflection_csv", f"deflection CSV of every dashboard panel over two years ({count:,} tickets)",
         {"console": history_url, "target": history_url, "audit_key": deflection.AUDIT_KEY, "email": OWNER,
          "paths": [f"/admin/deflection/csv/{panel}{whole}" for panel in PANELS]}),
        ("verify", f"audit verify of the whole trail ({entries:,}+ entries)",
         {"console": trail_url, "target": shop_url, "audit_key": audit_verify.KEY, "email": LEAD, "paths": []}),
    ]


def run(ctx: BenchContext) -> SuiteResult:
    table = Table("Peak RSS of a fresh process doing one thing",
                  ["case", "peak RSS (MB)", "above idle (MB)", "largest worker (MB)", "bytes sent", "seconds"])
    planned = cases(ctx)
    # A process's peak does not depend on what runs beside it: --quick runs two at a time to stay short.
    with ThreadPoolExecutor(max_workers=2 if ctx.quick else 1) as pool:
        found_all = list(pool.map(lambda item: measure_case(item[0], item[2]), planned))
    measured = {case: found for (case, _, _), found in zip(planned, found_all)}
    idle = measured["idle"]["self_peak_mb"]
    for (case, what, _), found in zip(planned, found_all):
        table.rows.append([what, found["self_peak_mb"], round(found["self_peak_mb"] - idle, 1),
                           found["workers_peak_mb"] or None, found["bytes"], found["seconds"]])
        print(f"  {case}: peak RSS {found['peak_mb']:,.0f} MB", flush=True)
    worst_case = max((case for case in measured if case != "idle"), key=lambda case: measured[case]["peak_mb"])
    worst = measured[worst_case]["peak_mb"]
    target = Target("peak RSS of every page, export and verify case", f"< {TARGET_MB} MB",
                    f"highest {worst:,.0f} MB ({worst_case}; idle {idle:,.0f} MB)", worst < TARGET_MB)
    # The benchmark itself is held to the same rule: this process ran every suite before this one.
    return SuiteResult("memory", facts={"bench_process_peak_rss_mb": peak_rss_mb(), "cases": measured},
                       tables=[table], targets=[target])


if __name__ == "__main__":
    print(json.dumps(case_main(sys.argv[1], json.loads(sys.argv[2]))))
