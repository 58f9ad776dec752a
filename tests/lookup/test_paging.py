"""Cursors: a row's sort key, written into a link and read back exactly."""
from __future__ import annotations

from datetime import datetime

import pytest

from console.lookup.paging import BadCursor
from console.lookup.queries import ORDER_SORTS


class Row:
    created_at = datetime(2025, 6, 1, 12, 30, 15, 123456)
    id = 4711
    total_cents = 2500


@pytest.mark.parametrize("param", list(ORDER_SORTS))
def test_a_cursor_round_trips(param):
    sort = ORDER_SORTS[param]
    values = sort.decode(sort.encode(Row()))
    assert values == tuple(getattr(Row, column.key) for column in sort.columns)


@pytest.mark.parametrize("cursor", ["", "2025-06-01T12:30:15", "x~1", "2025-06-01T12:30:15~one", "1~2~3",
                                    f"2025-06-01T12:30:15~{2**64}"])
def test_a_malformed_cursor_is_refused(cursor):
    with pytest.raises(BadCursor):
        ORDER_SORTS["-created"].decode(cursor)
