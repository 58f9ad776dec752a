"""The inspect suite: `support-console product inspect` and `product check` on a 200-table schema.

The schema is a product's, not the shop's: 200 tables in chains of related records (each table
belongs to the one before it in its chain, through an indexed foreign key), each with a unique
column, indexed columns to sort by, personal-data columns and money. It is made afresh in a
database of its own (a SQLite file, `<db>_inspect200` on PostgreSQL, or `<target>_inspect200` on
MySQL/MariaDB with --target), then both commands run as an operator runs them, in a new process,
so their times include Python's start and the console's imports (timed alone as `--help`).

Target (issue 19): `product inspect` on a 200-table schema finishes in seconds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import (BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.engine import make_url

from bench.harness import BenchContext, SuiteResult, Table as ResultTable, Target, _create_mysql_database
from console.engines import make_engine

TABLES = 200
CHAIN = 5  # tables per chain: account -> subscription -> invoice -> line -> refund
KINDS = ("accounts", "subscriptions", "invoices", "invoice_lines", "refunds")
PACKAGE = "bench_inspect_product"
TARGET_SECONDS = 10.0
CLI = [sys.executable, "-c", "from console.cli import main; main()"]


def product_schema(tables: int = TABLES) -> MetaData:
    """`tables` tables in chains of CHAIN, each belonging to the one before it in its chain."""
    metadata = MetaData()
    for n in range(tables):
        name = f"{KINDS[n % CHAIN]}_{n // CHAIN:03d}"
        columns = [Column("id", Integer, primary_key=True),
                   Column("reference", String(40), nullable=False),
                   Column("email", String(254)), Column("full_name", String(200)), Column("phone", String(40)),
                   Column("status", String(20), nullable=False),
                   Column("amount_cents", BigInteger), Column("currency", String(3)),
                   Column("notes", Text), Column("created_at", DateTime, nullable=False)]
        if n % CHAIN:
            parent = f"{KINDS[n % CHAIN - 1]}_{n // CHAIN:03d}"
            columns.append(Column("parent_id", Integer, ForeignKey(f"{parent}.id"), nullable=False))
        table = Table(name, metadata, *columns, UniqueConstraint("reference", name=f"uq_{name}_reference"))
        Index(f"ix_{name}_created", table.c.created_at, table.c.id)
        Index(f"ix_{name}_status_created", table.c.status, table.c.created_at)
        Index(f"ix_{name}_email", table.c.email)
        if n % CHAIN:
            Index(f"ix_{name}_parent", table.c.parent_id)
    return metadata


def _database(ctx: BenchContext) -> str:
    if ctx.target_db:
        url = make_url(ctx.target_db)
        url = url.set(database=f"{url.database}_inspect{TABLES}")
        _create_mysql_database(url)
        return url.render_as_string(hide_password=False)
    return ctx.database_url(f"inspect{TABLES}")


def make_schema(url: str) -> float:
    """Drop whatever a previous run left and create the schema; return the seconds it took."""
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        metadata = product_schema()
        reflected = MetaData()
        reflected.reflect(bind=engine)
        reflected.drop_all(engine)
        metadata.create_all(engine)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def timed(command: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[3:])} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    return seconds, done.stdout + done.stderr


def run(ctx: BenchContext) -> SuiteResult:
    url = _database(ctx)
    created_s = make_schema(url)
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as out:
        env = dict(os.environ, TARGET_DATABASE_URL=url, PRODUCT_PACKAGE=PACKAGE,
                   PYTHONPATH=os.pathsep.join([out, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        startup_s, _ = timed([*CLI, "--help"], env)
        inspect_s, _ = timed([*CLI, "product", "inspect", "--url", url, "--package", PACKAGE, "--out", out], env)
        records = (Path(out) / PACKAGE / "records.py").read_text()
        check_s, said = timed([*CLI, "product", "check", "--url", url, "--package", PACKAGE], env)
    declared = records.count("Record(")
    table = ResultTable(f"{TABLES} tables ({declared} records declared), each command a new process",
                        ["what", "seconds"],
                        [["create the schema (not timed against a target)", round(created_s, 2)],
                         ["support-console --help (Python's start and the console's imports)", round(startup_s, 2)],
                         ["support-console product inspect", round(inspect_s, 2)],
                         ["support-console product check (of the package inspect wrote)", round(check_s, 2)]])
    target = Target(f"product inspect on a {TABLES}-table schema", f"<= {TARGET_SECONDS:g} s",
                    f"{inspect_s:.1f} s ({inspect_s - startup_s:.1f} s after start-up)", inspect_s <= TARGET_SECONDS)
    return SuiteResult("inspect", facts={"database": make_url(url).get_backend_name(), "records": declared,
                                         "check_said": said.strip().splitlines()[-1:]},
                       tables=[table], targets=[target])
