"""The shared report: tables and targets of suites that have no baseline to compare with."""
from bench.harness import SuiteResult, Table, Target, markdown


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
