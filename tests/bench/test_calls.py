"""The calls suite's counter: the mean number of Python calls one call makes, warm-up excluded."""
from bench.calls import WARMUP, calls_per_call


def test_calls_are_counted_per_call_and_the_warm_up_is_not():
    seen = []

    def leaf():
        return None

    def work():
        seen.append(1)
        for _ in range(10):
            leaf()

    counted = calls_per_call(work, times=4)

    assert len(seen) == WARMUP + 4
    # work itself, its ten leaves and list.append, on each of the four counted calls (plus the profiler's own).
    assert 12 <= counted < 13
