"""What a new support agent reads: times in their own zone, legible charts, admin lists that work under the CSP.

Every page here is watched by the `new_page` fixture: a script blocked by the CSP is a console error and fails
the test.
"""
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_times_are_shown_in_the_viewers_own_zone_with_the_zone_named(new_page, password_reset_run, zone):
    page = new_page(as_user="agent@example.com", timezone_id=zone)
    page.goto(password_reset_run["run"])
    times = page.locator('main time[data-local-time="shown"]')
    expect(times.first).to_be_visible()
    assert times.count() >= 3
    for index in range(times.count()):
        node = times.nth(index)
        moment = datetime.fromisoformat(node.get_attribute("datetime").replace("Z", "+00:00"))
        local = moment.astimezone(ZoneInfo(zone))
        text = node.inner_text()
        # en-GB names the zone by its offset where it has no well-known abbreviation: "GMT-5", "GMT+5:30".
        shown = rf"{local.day} {local:%b} {local.year}(,| at) {local:%H:%M}(:\d\d)? (EST|EDT|GMT[+-][\d:]+)"
        assert re.fullmatch(shown, text), text
        assert node.get_attribute("title").endswith(" UTC")  # the server's text, in the configured zone, stays


@pytest.mark.parametrize("width", [1280, 1024])
def test_dashboard_charts_are_legible_at_the_usual_window_sizes(new_page, width):
    page = new_page(as_user="po@example.com", width=width)
    measured = []
    for section in ("overview", "build", "tools", "team", "runbooks"):  # every tab of the dashboard
        page.goto(f"/admin/deflection/?section={section}")
        charts = page.locator("svg.deflection-chart")
        expect(charts.first).to_be_visible()
        measured += page.evaluate("""() => [...document.querySelectorAll('svg.deflection-chart')].map(svg => {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale);
            return {title: svg.getAttribute('aria-label'), smallest: Math.min(...sizes),
                    fits: svg.getBoundingClientRect().right <= svg.parentElement.getBoundingClientRect().right + 1};
        })""")
    assert len(measured) >= 8
    for chart in measured:
        assert chart["smallest"] >= 12, f"at {width}px: {chart}"
        assert chart["fits"], f"at {width}px the chart overflows its card: {chart}"
    if width == 1024:
        screenshot(page, "dashboard-1024")


def test_revoking_a_token_asks_first_and_works_under_the_csp(new_page):
    page = new_page(as_user="admin@example.com")
    page.goto("/admin/api_tokens/issue/")
    page.get_by_label("Staff user").select_option("agent2@example.com")
    page.get_by_label("What it is for").fill("e2e-revoke")
    page.get_by_role("button", name="Issue the token").click()
    expect(page.locator("#new-token")).to_be_visible()

    page.goto("/admin/api_tokens/")
    row = page.locator("table.model-list tbody tr", has_text="e2e-revoke")
    box = row.get_by_role("checkbox", name=re.compile(r"^Select .*\(e2e-revoke\)$"))
    expect(page.get_by_role("checkbox", name="Select all rows on this page")).to_be_visible()
    answers = []

    def answer(dialog):
        answers.append(dialog.message)
        dialog.dismiss() if len(answers) == 1 else dialog.accept()

    page.on("dialog", answer)
    box.check()
    page.get_by_role("button", name="With selected").click()
    page.get_by_role("button", name="Revoke").click()
    expect(row).to_be_visible()
    assert answers == ["Revoke the selected tokens? Scripts using them stop working at once."]
    assert row.locator("td.col-revoked_at").inner_text().strip() == ""  # said no: nothing happened

    box.check()
    page.get_by_role("button", name="With selected").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status").filter(has_text="Revoked 1 token.")).to_be_visible()
    revoked = page.locator("table.model-list tbody tr", has_text="e2e-revoke").locator("td.col-revoked_at")
    expect(revoked.locator("time")).to_be_visible()
    screenshot(page, "admin-tokens-revoked")


def test_the_staff_filter_menu_works_under_the_csp(new_page):
    page = new_page(as_user="admin@example.com")
    page.goto("/admin/staff_users/")
    page.get_by_role("link", name="Add Filter").click()
    page.locator(".field-filters").get_by_role("button", name="Role").click()
    expect(page.locator("#filter_form table.filters tr")).to_have_count(1)
    assert page.url.endswith("/admin/staff_users/")  # the menu entry did not navigate
