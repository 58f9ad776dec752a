"""The shared harness: the report's tables and targets, and timing sides in rotation."""
import os
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from admin_tasks.shop import demo
from admin_tasks.shop.demo import load_shop
from admin_tasks.shop.demo_generated import TABLES
from bench.harness import (BenchContext, SuiteResult, Table, Target, drop_mysql_database, markdown,
                           measure_rotation)
from console.config import DEFAULT_PRODUCT_PACKAGE
from console.engines import make_engine
from console.migrations import create_target_schema
from console.product.loading import load_product
from console.product.search_index import declared, missing, searchable


def test_markdown_renders_tables_with_text_left_and_figures_right():
    table = Table("Sequential loops", ["side", "changes/s", "n", "note"],
                  [["bare | raw", 889.3, 20000, None], ["console", 94.9, 20, True]])
    text = markdown(SuiteResult("tasks", tables=[table]))
    assert "Sequential loops:" in text
    assert "| side | changes/s | n | note |" in text
    assert "| --- | ---: | ---: | ---: |" in text
    assert "| bare \\| raw | 889.30 | 20,000 |  |" in text
    assert "| console | 94.90 | 20 | yes |" in text


def test_markdown_states_each_target_and_whether_it_was_met():
    result = SuiteResult("http", targets=[Target("page ÷ bare", ">= 0.5×", "0.62×", True),
                                          Target("overhead", "<= 2 ms", "9.18 ms", False)])
    text = markdown(result)
    assert "- page ÷ bare: target >= 0.5×; measured 0.62×: met" in text
    assert "- overhead: target <= 2 ms; measured 9.18 ms: MISSED" in text
    assert "| scenario |" not in text  # no empty comparison table


def test_to_json_keeps_tables_and_targets():
    result = SuiteResult("verify", tables=[Table("t", ["round", "entries/s"], [[1, 250000]])],
                         targets=[Target("speed", ">= 200,000", "250,000", True)], facts={"dialect": "sqlite"})
    data = result.to_json()
    assert data["tables"] == [{"title": "t", "columns": ["round", "entries/s"], "rows": [[1, 250000]]}]
    assert data["targets"] == [{"what": "speed", "target": ">= 200,000", "measured": "250,000", "met": True}]
    assert data["facts"] == {"dialect": "sqlite"}



def test_each_side_is_timed_once_per_round_in_alternating_order():
    order = []
    calls = [lambda name=name: order.append(name) for name in "abc"]

    samples = measure_rotation(calls, reps=3, warmup=1, budget_s=60)

    assert order == list("abc") + list("abc") + list("cba") + list("abc")
    assert [len(s.wall) for s in samples] == [3, 3, 3]


def test_a_slow_side_stops_the_rounds_once_the_budget_is_spent():
    samples = measure_rotation([lambda: None, lambda: None], reps=50, warmup=0, budget_s=0.0, min_samples=4)

    assert [len(s.wall) for s in samples] == [4, 4]


def test_drop_target_drops_the_target_and_the_databases_named_after_it_only():
    server = os.environ.get("TEST_TARGET_DATABASE_URL", "")
    if not server.startswith("mysql"):
        pytest.skip("needs MySQL/MariaDB: set TEST_TARGET_DATABASE_URL=mysql+pymysql://...")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    names = ("bench_drop_t", "bench_drop_t_inspect200", "bench_drop_tx", "bench_drop_t2")
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS `{name}`")
    try:
        dropped = drop_mysql_database(server.rsplit("/", 1)[0] + "/bench_drop_t")
        with admin.connect() as conn:
            left = set(conn.execute(text("SHOW DATABASES LIKE :like"), {"like": "bench\\_drop%"}).scalars())
        assert sorted(dropped) == ["bench_drop_t", "bench_drop_t_inspect200"]
        assert left == {"bench_drop_tx", "bench_drop_t2"}
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def test_the_bench_shop_has_the_rows_and_search_indexes_that_init_then_a_load_give(tmp_path, test_databases,
                                                                                  monkeypatch):
    """The bench loads the rows before the substring indexes exist and builds these afterwards; the shop
    must come out as `init` then `demo-data` leave it (SQLite files, or the MySQL/MariaDB target's server)."""
    monkeypatch.setattr(demo, "utcnow", lambda: datetime(2026, 6, 1, 12, 0))  # order 1003 is dated from it
    on_mysql = os.environ.get("TEST_TARGET_DATABASE_URL", "").startswith("mysql")
    bench_url = test_databases.new_target() if on_mysql else None
    init_url = test_databases.new_target() if on_mysql else f"sqlite:///{tmp_path / 'init.db'}"
    ctx = BenchContext(db="sqlite", customers=60, seed=3, reps=1, warmup=0, budget_s=1, data_dir=tmp_path,
                       target_db=bench_url)
    bench = ctx.load_shop()
    init = make_engine(init_url)
    create_target_schema(init)
    load_shop(init, customers=60, seed=3)
    product = load_product(DEFAULT_PRODUCT_PACKAGE)
    try:
        assert missing(bench, product) == [] and "substring_index_seconds" in ctx.facts
        assert _shop(bench, product) == _shop(init, product)
    finally:
        bench.dispose()
        init.dispose()


def _shop(engine, product) -> dict:
    """Every shop row, the schema's objects, and what each substring index holds."""
    with engine.connect() as conn:
        found = {table: conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all() for table in TABLES}
        if engine.dialect.name == "sqlite":
            found["schema"] = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                                "ORDER BY name")).all()
        else:
            found["schema"] = conn.execute(text(
                "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = "
                "DATABASE() ORDER BY 1")).all()
        for index in declared(product):
            if engine.dialect.name == "sqlite":
                values = conn.execute(text(f"SELECT {index.column} FROM {index.table} ORDER BY 1")).scalars()
                fragments = sorted({value[1:4] for value in values if value and searchable(value[1:4])})
                found[index.name] = [conn.execute(text(f"SELECT rowid FROM {index.name} WHERE {index.name} "
                                                       "MATCH :q ORDER BY rowid"), {"q": f'"{f}"'}).all()
                                     for f in fragments]
            else:
                found[index.name] = [conn.execute(text(f"SHOW CREATE TABLE {index.name}")).one()[1],
                                     conn.execute(text(f"SELECT suffix, k FROM {index.name} ORDER BY 1, 2")).all()]
    return found
