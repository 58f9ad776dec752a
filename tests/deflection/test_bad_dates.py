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


def test_the_dashboard_names_bad_dates_as_its_form_labels_them(client, login_as):
    login_as("product_owner")
    response = client.get("/admin/deflection/", query_string=BOTH_BAD)
    alert = html.unescape(response.get_data(as_text=True)).split('class="alert alert-danger"', 1)[1].split("</div>")[0]
    assert (">From date must be a date written YYYY-MM-DD, not 'last monday'. To date must be a date written "
            "YYYY-MM-DD, not '2026-13-45'. The dashboard shows the default range instead." in alert)
    assert "from:" not in alert and "from must" not in alert
    reversed_range = client.get("/admin/deflection/", query_string={"from": "2026-04-01", "to": "2026-03-01"})
    assert "From date (2026-04-01) is after To date (2026-03-01)." in html.unescape(reversed_range.get_data(
        as_text=True))
    download = client.get("/admin/deflection/csv/deflection", query_string={"to": "soon"})
    assert download.status_code == 400 and "To date must be a date written YYYY-MM-DD, not 'soon'." in \
        html.unescape(download.get_data(as_text=True))


def test_the_api_keeps_the_query_names_of_bad_dates(client, api_token):
    _user, headers = api_token("product_owner")
    error = client.get("/api/v1/stats/deflection", headers=headers, query_string={"from": "0001-01-01"}).get_json()
    assert error["error"]["fields"] == {"from": "from must be a date from 2000-01-01 to 2100-12-31, not 0001-01-01"}
    assert error["error"]["message"].startswith("from must be a date")
