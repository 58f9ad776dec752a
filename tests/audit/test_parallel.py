"""Splitting a SQLite trail across processes finds exactly what one pass finds."""
import pytest

from console.audit.checkpoints import policy_from_config
from console.audit.parallel import split, worker_count
from console.audit.verify import verify_trail


def test_ranges_cover_every_seq_once():
    assert split(10, 3) == [(1, 4), (5, 8), (9, 10)]
    assert split(2, 4) == [(1, 1), (2, 2)]
    assert worker_count("postgresql", 10**7) == 1 and worker_count("sqlite", 10) == 1
    assert worker_count("sqlite", 10, requested=3) == 3


def both_ways(made):
    key, policy = made.app.config["CONSOLE_AUDIT_KEY"], policy_from_config(made.app.config)
    one = verify_trail(made.engine, key, policy=policy, workers=1)
    split_up = verify_trail(made.engine, key, policy=policy, workers=2)
    return one, split_up


CASES = {
    "intact": [],
    "deleted at the boundary": ["DELETE FROM audit_entries WHERE seq = 13"],
    "modified just after it": ["UPDATE audit_entries SET reason = 'x' WHERE seq = 14"],
    "swapped across it": ["UPDATE audit_entries SET seq = -1 WHERE seq = 13",
                          "UPDATE audit_entries SET seq = 13 WHERE seq = 14",
                          "UPDATE audit_entries SET seq = 14 WHERE seq = -1"],
    "tail deleted": ["DELETE FROM audit_entries WHERE seq > 22"],
}


@pytest.mark.parametrize("case", CASES)
def test_two_processes_agree_with_one_pass(trail, case):
    made = trail()
    if made.dialect != "sqlite":
        pytest.skip("only SQLite trails are split across processes")
    made.record(25)
    made.drop_triggers()
    for statement in CASES[case]:
        made.sql(statement)
    one, split_up = both_ways(made)
    assert split_up.summary == one.summary
    assert (split_up.checkpoints, split_up.checkpoint_seq) == (one.checkpoints, one.checkpoint_seq)
    assert one.ok == (case == "intact")
