"""The shared harness: the report's tables and targets, and timing sides in rotation."""
import os

import pytest
from sqlalchemy import create_engine, text

from bench.harness import SuiteResult, Table, Target, drop_mysql_database, markdown, measure_rotation


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
