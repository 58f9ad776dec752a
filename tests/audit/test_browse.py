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
