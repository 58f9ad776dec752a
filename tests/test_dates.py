"""console.dates: the one parser of dates in query strings, and its supported range."""
from datetime import date

import pytest

from console.dates import EARLIEST, LATEST, DateError, query_date, query_range


@pytest.mark.parametrize("raw, expected", [("2026-01-05", date(2026, 1, 5)), (" 2000-01-01 ", EARLIEST),
                                           ("2100-12-31", LATEST), ("", None), ("   ", None)])
def test_a_date_in_range_is_read(raw, expected):
    assert query_date({"to": raw}, "to") == expected
    assert query_date({}, "to") is None


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "2026-02-30", "20260105",
                                 "2026-W02-1", "\uff12\uff10\uff12\uff16-01-05", "2026-01-05T00:00", "March"])
def test_anything_else_is_a_date_error_naming_the_field(raw):
    with pytest.raises(DateError) as caught:
        query_date({"from": raw}, "from")
    assert caught.value.field == "from" and caught.value.message.startswith("from must be a date")


def test_a_range_names_its_start_when_it_comes_after_its_end():
    assert query_range({"from": "2026-01-01", "to": "2026-01-01"}) == (date(2026, 1, 1), date(2026, 1, 1))
    assert query_range({"to": "2026-01-01"}) == (None, date(2026, 1, 1))
    with pytest.raises(DateError) as caught:
        query_range({"from": "2026-01-02", "to": "2026-01-01"})
    assert (caught.value.field, caught.value.message) == ("from", "from (2026-01-02) is after to (2026-01-01)")
