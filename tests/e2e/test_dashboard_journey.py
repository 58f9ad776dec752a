"""Journey 5: the product owner narrows the dashboard to a date range and downloads a panel as CSV."""
import csv
import io
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot


def test_product_owner_changes_the_range_and_downloads_a_csv(new_page):
    page = new_page(as_user="po@example.com")
    page.goto("/admin/")
    page.get_by_role("link", name="Open the deflection dashboard").click()
    expect(page.locator("h1")).to_have_text("Deflection dashboard")
    panel = page.locator("#panel-deflection")
    whole_range = panel.locator("p", has_text="Over the range").inner_text()

    # Eight weeks ending four weeks ago: inside the demo's 180 days of history.
    end = date.today() - timedelta(days=28)
    start = end - timedelta(days=55)
    page.get_by_label("From").fill(start.isoformat())
    page.get_by_label("to", exact=True).fill(end.isoformat())
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**from={start.isoformat()}**")
    expect(page.get_by_label("From")).to_have_value(start.isoformat())
    expect(page.get_by_label("to", exact=True)).to_have_value(end.isoformat())
    narrowed = panel.locator("p", has_text="Over the range").inner_text()
    assert narrowed != whole_range
    expect(panel.locator("svg[role=img]")).to_be_visible()
    screenshot(page, "journey5-dashboard", docs=True)

    with page.expect_download() as download_info:
        panel.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"deflection-deflection-{start}-{end}.csv"
    with open(download.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    header, data = rows[0], rows[1:]
    assert header[0] == "Week of" and "Deflection rate" in header
    assert len(data) >= 8
    weeks = [date.fromisoformat(row[0]) for row in data]
    assert start - timedelta(days=6) <= min(weeks) and max(weeks) <= end
    assert all(int(row[1]) > 0 for row in data), data
