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


def test_product_owner_moves_between_tabs_records_a_sprint_and_reads_what_to_build(new_page):
    page = new_page(as_user="po@example.com")
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=90)
    page.goto(f"/admin/deflection/?from={start}&to={end}")

    page.get_by_role("link", name="Support tax and velocity").click()
    page.wait_for_url("**section=team**")
    assert f"from={start}" in page.url and f"to={end}" in page.url  # the tab kept the range
    expect(page.get_by_label("From")).to_have_value(start.isoformat())
    sprints = page.locator("#panel-sprints")
    expect(sprints).to_contain_text("Plan the next sprint with")
    expect(sprints.locator("svg[role=img]")).to_be_visible()

    sprints.locator("summary", has_text="Record a sprint").click()
    form = sprints.get_by_role("form", name="Record a sprint")
    form.get_by_label("Name").fill("Sprint next")
    form.get_by_label("First day").fill(date.today().isoformat())
    form.get_by_label("Last day").fill((date.today() - timedelta(days=3)).isoformat())
    form.get_by_label("Points planned").fill("34")
    form.get_by_label("Points completed").fill("0")
    form.get_by_role("button", name="Record the sprint").click()
    expect(page.locator("#sprint-ends_on-error")).to_contain_text("is before starts_on")
    form = page.get_by_role("form", name="Record a sprint")
    form.get_by_label("Last day").fill((date.today() + timedelta(days=13)).isoformat())
    form.get_by_role("button", name="Record the sprint").click()
    expect(page.get_by_role("status").filter(has_text="Recorded Sprint next")).to_be_visible()
    assert "section=team" in page.url and f"from={start}" in page.url
    screenshot(page, "journey5-velocity", docs=True)

    page.get_by_role("link", name="What to build").click()
    ranking = page.locator("#panel-opportunities")
    expect(ranking).to_contain_text("Score = escalations × mean developer minutes")
    expect(ranking.locator("th", has_text="Score (developer minutes)")).to_be_visible()
    expect(page.locator("#panel-rootcauses tbody tr").first).to_contain_text("of")
    screenshot(page, "journey5-what-to-build", docs=True)

    page.get_by_role("link", name="Tool health and impact").click()
    impact = page.locator("#panel-impact svg[role=img]")
    expect(impact).to_be_visible()
    assert "…" not in page.locator("#panel-health svg").inner_html()
    screenshot(page, "journey5-tool-health")
