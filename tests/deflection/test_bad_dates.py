"""A dashboard or statistics request with several bad dates names each of them, not only the first."""
from __future__ import annotations

import html

import pytest

from console.deflection.metrics import FilterError, parse_filter
from tests.deflection.conftest import T0

BOTH_BAD = {"from": "last monday", "to": "2026-13-45"}


def test_the_filter_names_every_bad_date():
    with pytest.raises(FilterError) as caught:
        parse_filter(BOTH_BAD, today=T0.date())
    assert set(caught.value.fields) == {"from", "to"}
    assert "from must be a date written YYYY-MM-DD, not 'last monday'" in str(caught.value)
    assert "to must be a date written YYYY-MM-DD, not '2026-13-45'" in str(caught.value)


def test_the_dashboard_lists_each_bad_date(client, login_as):
    login_as("product_owner")
    response = client.get("/admin/deflection/", query_string=BOTH_BAD)
    shown = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "'last monday'" in shown and "'2026-13-45'" in shown


def test_the_api_names_each_bad_date_in_its_fields(client, api_token):
    _user, headers = api_token("product_owner")
    response = client.get("/api/v1/stats/deflection", headers=headers, query_string=BOTH_BAD)
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"from", "to"}
