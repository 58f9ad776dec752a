"""The lookup suite's verdicts on issue 7's targets: the p95 limit over every page, each ratio over its scenarios."""
from bench.harness import Comparison, Stats
from bench.lookup import targets


def _timed(name: str, baseline_ms: float, console_ms: float, console_p95_ms: float = 5.0) -> Comparison:
    return Comparison(name, Stats(baseline_ms, baseline_ms, 30), Stats(console_ms, console_p95_ms, 30))


def test_each_ratio_target_is_judged_on_its_lowest_scenario():
    found = targets([_timed("customers: page 1", 50.0, 5.0), _timed("orders: page 1", 30.0, 10.0),
                     _timed("exact email", 600.0, 3.0), _timed("prefix", 300.0, 6.0),
                     _timed("worst", 540.0, 5.4), _timed("order page", 2.0, 4.0, console_p95_ms=24.9)],
                    {"customers: page 1": "page 1", "orders: page 1": "page 1", "exact email": "email",
                     "prefix": "email", "worst": "worst sort"})
    verdicts = {target.what: (target.met, target.measured) for target in found}

    assert verdicts["every list, lookup, sort and detail page, console p95"] == (True, "highest 24.90 ms (order page)")
    assert verdicts["ratio to stock on page 1"] == (False, "lowest 3.0× (10.0× customers: page 1, 3.0× orders: page 1)")
    assert verdicts["ratio to stock on email search"][0] is True
    assert verdicts["ratio to stock on the worst stock sort"] == (True, "lowest 100.0× (100.0× worst)")


def test_a_slow_page_misses_the_p95_limit_and_goals_without_scenarios_are_not_judged():
    found = targets([_timed("customers: last page", 100.0, 20.0, console_p95_ms=25.5)], {})

    assert [(target.what, target.met) for target in found] == [
        ("every list, lookup, sort and detail page, console p95", False)]


def test_tuned_stock_targets_are_judged_on_the_faster_stock_and_skip_scenarios_without_tuned():
    tuned_page = Comparison("customers: page 1", Stats(80.0, 90.0, 30), Stats(4.0, 5.0, 30),
                            tuned=Stats(10.0, 12.0, 30))
    # Tuned stock slower than default here (its sort's index walked row by row): the default counts.
    prefix = Comparison("prefix", Stats(390.0, 420.0, 30), Stats(5.0, 6.0, 30), tuned=Stats(900.0, 950.0, 30))
    untimed = _timed("substring", 500.0, 5.0)  # no tuned side: not counted against the tuned goal
    found = targets([tuned_page, prefix, untimed], {"customers: page 1": "page 1"},
                    {"customers: page 1": "page 1", "prefix": "search", "substring": "search"})
    verdicts = {target.what: (target.met, target.measured) for target in found}

    assert verdicts["ratio to stock on page 1"] == (True, "lowest 20.0× (20.0× customers: page 1)")
    assert verdicts["ratio to the faster of tuned and default stock on page 1"] == (
        False, "lowest 2.5× (2.5× customers: page 1)")
    assert verdicts["ratio to the faster of tuned and default stock on every search"] == (
        True, "lowest 78.0× (78.0× prefix)")
