"""Filters and keyset pages over the trail."""
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from console.audit import browse
from console.audit.chain import record_event


def test_a_filter_round_trips_through_its_query_arguments():
    args = MultiDict({"actor": " lead@example.com ", "outcome": "failed", "from": "2026-01-01", "to": "2026-01-31"})
    flt = browse.parse_filter(args)
    assert flt.actor == "lead@example.com" and flt.date_from == date(2026, 1, 1)
    assert browse.parse_filter(MultiDict(flt.query_args())) == flt
    assert flt.describe() == {"actor": "lead@example.com", "outcome": "failed", "date_from": "2026-01-01",
                              "date_to": "2026-01-31"}


@pytest.mark.parametrize("value", ["12a", "-1", "1e3", "9" * 19])
def test_a_cursor_must_be_a_whole_number(value):
    with pytest.raises(browse.FilterError) as caught:
        browse.parse_seq(MultiDict({"before": value}), "before")
    assert caught.value.field == "before"


def test_pages_walk_down_and_back_up(app, console_db):
    with app.app_context():
        seqs = [record_event(console_db, actor="a@example.com", action="walk").seq for _ in range(7)]
    flt = browse.TrailFilter(action="walk")
    top = browse.page(console_db, flt, size=3)
    assert [e.seq for e in top.entries] == seqs[:-4:-1] and top.newer is None and top.older == seqs[4]
    middle = browse.page(console_db, flt, before=top.older, size=3)
    assert [e.seq for e in middle.entries] == seqs[3:0:-1] and middle.newer == seqs[3]
    bottom = browse.page(console_db, flt, before=middle.older, size=3)
    assert [e.seq for e in bottom.entries] == [seqs[0]] and bottom.older is None
    back = browse.page(console_db, flt, after=middle.newer, size=3)
    assert [e.seq for e in back.entries] == [e.seq for e in top.entries] and back.newer is None


def test_a_date_range_without_entries_is_empty_without_scanning(app, console_db):
    with app.app_context():
        record_event(console_db, actor="a@example.com", action="walk")
    assert browse.page(console_db, browse.TrailFilter(date_to=date(2000, 1, 1))).entries == []
    assert browse.page(console_db, browse.TrailFilter(date_from=date(2999, 1, 1))).entries == []


def test_an_intent_reads_started_once_closed_running_within_the_window_and_interrupted_after(app, console_db):
    from datetime import timedelta

    def intent(run_id: int):
        return record_event(console_db, actor="agent@example.com", action="task.intent", subject_type="task_run",
                            subject_id=run_id, outcome="interrupted")

    with app.app_context():
        closed, reconciled, fresh, stuck = intent(901), intent(902), intent(903), intent(904)
        outcome = record_event(console_db, actor="agent@example.com", action="task.outcome", subject_type="task_run",
                               subject_id=901, outcome="succeeded")
        settled = record_event(console_db, actor="lead@example.com", action="task.reconcile", subject_type="task_run",
                               subject_id=902, outcome="failed")
        login = record_event(console_db, actor="agent@example.com", action="login")
    entries = [closed, reconciled, fresh, stuck, outcome, settled, login]
    shown = browse.statuses(console_db, entries, now=fresh.created_at + timedelta(seconds=30), window_seconds=60)
    assert shown[closed.seq] == browse.Status("started", "secondary", outcome_seq=outcome.seq, outcome="succeeded")
    assert shown[reconciled.seq] == browse.Status("started", "secondary", outcome_seq=settled.seq, outcome="failed")
    assert shown[fresh.seq].text == "running" and shown[stuck.seq].text == "running"
    later = browse.statuses(console_db, entries, now=stuck.created_at + timedelta(seconds=61), window_seconds=60)
    assert later[stuck.seq] == browse.Status("interrupted", "danger") and later[closed.seq].text == "started"
    assert later[outcome.seq] == browse.Status("succeeded", "success")
    assert later[settled.seq].tone == "danger" and login.seq not in later


def test_the_action_filter_matches_a_prefix_and_only_a_prefix(app, console_db):
    with app.app_context():
        made = {action: record_event(console_db, actor="a@example.com", action=action).seq
                for action in ("user.create", "user.disable", "username_like", "a_user.create", "us%er.x")}

    def found(action):
        return {e.action for e in browse.page(console_db, browse.TrailFilter(action=action)).entries
                if e.seq in made.values()}

    assert found("user") == {"user.create", "user.disable", "username_like"}
    assert found("user.") == {"user.create", "user.disable"}
    assert found("user.disable") == {"user.disable"}
    assert found("us%") == {"us%er.x"}  # a wildcard is a character like any other
