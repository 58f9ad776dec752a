"""What every benchmark suite shares: the databases, A/B timing, statistics and the report.

A suite is a function `run(ctx: BenchContext) -> SuiteResult`, named in bench.__main__.SUITES.
"""
from __future__ import annotations

import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from console.engines import make_engine

QUICK_CUSTOMERS = 10_000
NAMED_CUSTOMERS = 3  # the demo's locked@, unconfirmed@ and alice@
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "support-console-bench"


@dataclass
class Stats:
    """Milliseconds per call: median, p95 and how many samples they come from."""

    median_ms: float
    p95_ms: float
    n: int

    @classmethod
    def of(cls, seconds: list[float]) -> "Stats":
        ms = sorted(s * 1000 for s in seconds)
        # Nearest rank: the p95 is a time that was really measured, never an interpolation.
        p95 = ms[min(len(ms) - 1, max(0, -(-95 * len(ms) // 100) - 1))]
        return cls(round(statistics.median(ms), 2), round(p95, 2), len(ms))


@dataclass
class Comparison:
    """One scenario timed on the baseline (A) and on the console (B)."""

    scenario: str
    baseline: Stats
    console: Stats
    note: str = ""
    # CPU time of this process per call: unlike wall time, other processes on the machine
    # barely move it (the database server's own work is not in it for PostgreSQL).
    baseline_cpu_ms: float | None = None
    console_cpu_ms: float | None = None
    # A second baseline timed in the same rotation: stock Flask-Admin as a careful user tunes it.
    tuned: Stats | None = None
    tuned_cpu_ms: float | None = None

    @property
    def ratio_median(self) -> float:
        return round(self.baseline.median_ms / self.console.median_ms, 1)

    @property
    def ratio_tuned(self) -> float | None:
        return None if self.tuned is None else round(self.tuned.median_ms / self.console.median_ms, 1)

    @property
    def ratio_best_stock(self) -> float | None:
        """Against the faster of the two baselines: tuning's sort can make a search slower (it walks the sort's index)."""
        if self.tuned is None:
            return None
        return round(min(self.baseline.median_ms, self.tuned.median_ms) / self.console.median_ms, 1)

    @property
    def ratio_p95(self) -> float:
        return round(self.baseline.p95_ms / self.console.p95_ms, 1)


@dataclass
class Table:
    """Figures without a baseline to compare with: a title, column names and rows of values."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


@dataclass
class Target:
    """One target of the issue, what was measured against it, and whether it was met."""

    what: str
    target: str
    measured: str
    met: bool

    def line(self) -> str:
        return f"{self.what}: target {self.target}; measured {self.measured}: {'met' if self.met else 'MISSED'}"


@dataclass
class SuiteResult:
    suite: str
    comparisons: list[Comparison] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # anything else worth keeping (row counts, RSS)
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def to_json(self) -> dict:
        rows = []
        for c in self.comparisons:
            rows.append({"scenario": c.scenario, "baseline": asdict(c.baseline), "console": asdict(c.console),
                         "ratio_median": c.ratio_median, "ratio_p95": c.ratio_p95,
                         "baseline_cpu_median_ms": c.baseline_cpu_ms, "console_cpu_median_ms": c.console_cpu_ms,
                         "tuned": asdict(c.tuned) if c.tuned else None, "ratio_tuned_median": c.ratio_tuned,
                         "tuned_cpu_median_ms": c.tuned_cpu_ms,
                         "note": c.note})
        return {"suite": self.suite, "scenarios": rows, "tables": [asdict(t) for t in self.tables],
                "targets": [asdict(t) for t in self.targets], "facts": self.facts}


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def cpu_median_ms(self) -> float:
        return round(statistics.median(self.cpu) * 1000, 2)


def measure_ab(a: Callable[[], object], b: Callable[[], object], *, reps: int, warmup: int, budget_s: float,
               min_samples: int = 5) -> tuple[Samples, Samples]:
    """Time `a` and `b` in alternation (AB, BA, AB...): `measure_rotation` of the two."""
    first, second = measure_rotation([a, b], reps=reps, warmup=warmup, budget_s=budget_s, min_samples=min_samples)
    return first, second


def measure_rotation(calls: list[Callable[[], object]], *, reps: int, warmup: int, budget_s: float,
                     min_samples: int = 5) -> list[Samples]:
    """Time each call once per round, forwards then backwards (ABC, CBA, ABC...), after `warmup` untimed rounds.

    Alternating spreads a drift of the machine's speed evenly over the sides. Stops after `reps` rounds,
    or earlier once any side has spent `budget_s` and each has at least `min_samples` samples: a
    baseline that takes 10 s per call gets 5 samples, not 30.
    """
    for _ in range(warmup):
        for call in calls:
            call()
    samples = [Samples() for _ in calls]
    pairs = list(zip(calls, samples))
    for i in range(reps):
        for call, taken in (pairs if i % 2 == 0 else pairs[::-1]):
            cpu, wall = time.process_time(), time.perf_counter()
            call()
            taken.wall.append(time.perf_counter() - wall)
            taken.cpu.append(time.process_time() - cpu)
        if len(samples[0].wall) >= min_samples and max(sum(taken.wall) for taken in samples) > budget_s:
            break
    return samples


def markdown(result: SuiteResult) -> str:
    lines = [f"### {result.suite}"]
    if any(c.tuned for c in result.comparisons):
        lines += ["", "| scenario | stock median / p95 (ms) | tuned stock median / p95 (ms) | console median / p95 (ms) "
                      "| ÷ stock | ÷ tuned stock | console CPU (ms) | n |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for c in result.comparisons:
            tuned = f"{c.tuned.median_ms:,.1f} / {c.tuned.p95_ms:,.1f}" if c.tuned else ""
            ratio = f"{c.ratio_tuned:,.1f}×" if c.tuned else ""
            lines.append(f"| {c.scenario} | {c.baseline.median_ms:,.1f} / {c.baseline.p95_ms:,.1f} | {tuned} | "
                         f"{c.console.median_ms:,.2f} / {c.console.p95_ms:,.2f} | {c.ratio_median:,.1f}× | {ratio} | "
                         f"{_cell(c.console_cpu_ms)} | {c.console.n} |")
    elif result.comparisons:
        lines += ["", "| scenario | baseline median / p95 (ms) | console median / p95 (ms) | ratio (median) | "
                      "console CPU (ms) | n |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for c in result.comparisons:
            lines.append(f"| {c.scenario} | {c.baseline.median_ms:,.1f} / {c.baseline.p95_ms:,.1f} | "
                         f"{c.console.median_ms:,.2f} / {c.console.p95_ms:,.2f} | {c.ratio_median:,.1f}× | "
                         f"{_cell(c.console_cpu_ms)} | {c.baseline.n} / {c.console.n} |")
    for table in result.tables:
        first = table.rows[0] if table.rows else []
        # Text columns align left, figures right.
        rule = ["---" if isinstance(value, str) else "---:" for value in first] or ["---"] * len(table.columns)
        lines += ["", f"{table.title}:", "", "| " + " | ".join(table.columns) + " |", "| " + " | ".join(rule) + " |"]
        lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.rows]
    if result.targets:
        lines += [""] + [f"- {target.line()}" for target in result.targets]
    shown = {key: value for key, value in result.facts.items()
             if isinstance(value, (int, float, str, tuple, list)) or key.startswith("calibration")}
    if shown:
        lines += ["", "; ".join(f"{key}: {value}" for key, value in shown.items())]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "\\|")


def calibrate(rounds: int = 15) -> dict:
    """Time a fixed pure-Python loop: on an idle machine its wall time equals its CPU time.

    When the machine (or the host under a VM) is busy, wall time grows past CPU time for this
    loop exactly as for every request measured after it; the ratio says how much.
    """
    samples = []
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        total = 0
        for i in range(100_000):
            total += i * i
        samples.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    wall_ms = statistics.median(s[0] for s in samples)
    cpu_ms = statistics.median(s[1] for s in samples)
    return {"wall_ms": round(wall_ms, 2), "cpu_ms": round(cpu_ms, 2), "wall_over_cpu": round(wall_ms / cpu_ms, 2)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        memory_gb = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "os": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version}


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


@dataclass
class BenchContext:
    """The run's settings, and the databases a suite asks for."""

    db: str  # "sqlite" or a PostgreSQL URL
    customers: int
    seed: int
    reps: int
    warmup: int
    budget_s: float
    data_dir: Path
    profile: str | None = None
    quick: bool = False  # --quick: suites pick their small sizes and short runs
    target_db: str | None = None  # --target-db: the shop on this MySQL/MariaDB server
    facts: dict = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.db == "sqlite"

    def database_url(self, name: str) -> str:
        """A database of this run: a file under data_dir, or a database on the PostgreSQL server."""
        if self.is_sqlite:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{self.data_dir / name}.db"
        url = make_url(self.db)
        wanted = url.set(database=url.database if name == "shop" else f"{url.database}_{name}")
        _create_postgres_database(wanted)
        return wanted.render_as_string(hide_password=False)

    def shop_url(self) -> str:
        if self.target_db:
            _create_mysql_database(make_url(self.target_db))
            return self.target_db
        return self.database_url(f"shop-{self.customers}-seed{self.seed}" if self.is_sqlite else "shop")

    def load_shop(self) -> Engine:
        """Fill the target database with the demo shop at the requested size (resumes a partial load).

        The tables are created as `init` creates them, but the substring search indexes only after the rows,
        by `init`'s own code over the whole tables: written through MariaDB's suffix triggers (one INSERT per
        suffix of each value), a 1M load ran at 80-470 customers/s. A shop that already has the indexes (an
        earlier run) keeps them, and rows it still lacks go in through them.
        """
        from admin_tasks.shop.demo import load_shop
        from console.config import DEFAULT_PRODUCT_PACKAGE
        from console.product.loading import load_product

        product = load_product(DEFAULT_PRODUCT_PACKAGE)
        engine = make_engine(self.shop_url())
        product.create_schema(engine)
        _create_missing_indexes(engine)
        started = time.perf_counter()
        load_shop(engine, customers=self.customers, seed=self.seed, progress=True)
        self.facts["load_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        if _build_substring_indexes(engine, product):
            self.facts["substring_index_seconds"] = round(time.perf_counter() - started, 1)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            with engine.connect() as conn:
                self.facts["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        elif engine.dialect.name in ("mysql", "mariadb"):
            with engine.connect() as conn:
                for table in ("customers", "orders"):
                    conn.exec_driver_sql(f"ANALYZE TABLE {table}").all()
                self.facts["mysql"] = conn.exec_driver_sql("SELECT version()").scalar()
        with engine.connect() as conn:
            for table in ("customers", "orders"):
                self.facts[f"{table}_rows"] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        if self.facts["customers_rows"] > self.customers + NAMED_CUSTOMERS:
            raise SystemExit(f"{engine.url.render_as_string()} already holds {self.facts['customers_rows']:,} "
                             f"customers, more than --customers {self.customers:,}: use another database")
        return engine


def _build_substring_indexes(engine: Engine, product) -> list[str]:
    """Build the missing substring indexes with `init`'s own code, each on its own connection at once on
    MySQL/MariaDB: there each is a suffix table filled row by row (tens of millions of rows at 1M
    customers), and one connection keeps one core busy. SQLite takes one writer at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from console.product.search_index import create_missing, missing

    indexes = missing(engine, product)
    if engine.dialect.name not in ("mysql", "mariadb") or len(indexes) < 2:
        return create_missing(engine, product, indexes)
    with ThreadPoolExecutor(max_workers=len(indexes)) as pool:
        built = pool.map(lambda index: create_missing(engine, product, [index]), indexes)
        return [line for lines in built for line in lines]


def raise_priority(niceness: int) -> None:
    """Run this process, and the PostgreSQL backends it connects to, at `niceness` (root only for < 0).

    On a machine shared with other jobs, the queue for the CPU otherwise dominates every p95.
    Both sides of an A/B comparison share the process and its connections, so both get it.
    """
    from sqlalchemy import event

    os.setpriority(os.PRIO_PROCESS, 0, niceness)

    @event.listens_for(Engine, "connect")
    def _renice_backend(dbapi_connection, _record):
        if type(dbapi_connection).__module__.startswith("psycopg"):
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                os.setpriority(os.PRIO_PROCESS, cursor.fetchone()[0], niceness)
            dbapi_connection.rollback()


def _create_postgres_database(url) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": url.database}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def _create_mysql_database(url) -> None:
    admin = create_engine(url.set(database="information_schema"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS `{url.database}`")
    finally:
        admin.dispose()


def drop_mysql_database(url: str) -> list[str]:
    """Drop the --target database and those the suites named after it (`<name>_inspect200`); return their names."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="information_schema"), isolation_level="AUTOCOMMIT")
    pattern = parsed.database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "\\_%"
    try:
        with admin.connect() as conn:
            named = conn.execute(text("SELECT schema_name FROM schemata WHERE schema_name = :name "
                                      "OR schema_name LIKE :pattern"),
                                 {"name": parsed.database, "pattern": pattern}).scalars().all()
            for name in named:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.dispose()
    return list(named)


def _create_missing_indexes(engine: Engine) -> None:
    """A database loaded by an older schema lacks newer indexes; create_all only adds tables."""
    from admin_tasks.shop_schema import ShopBase

    inspector = inspect(engine)
    for table in ShopBase.metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(engine, checkfirst=True)
