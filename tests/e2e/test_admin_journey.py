"""Journey 9: the admin's day. The product owner's weekly report wants the deflection figures over the API: the
admin issues a token for them, sees it once, the report reads the stats with it, and the admin revokes it."""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

PURPOSE = "Weekly deflection report"


def test_admin_issues_an_api_token_it_works_once_copied_and_stops_when_revoked(new_page):
    admin = new_page(as_user="admin@example.com")
    admin.goto("/admin/")
    admin.locator("nav").get_by_role("link", name="Admin", exact=True).click()
    admin.get_by_role("link", name="API tokens").click()
    expect(admin.locator("h1")).to_have_text("API tokens")
    admin.get_by_role("link", name="Issue a token").click()
    admin.get_by_label("Staff user").select_option("po@example.com")
    admin.get_by_label("What it is for").fill(PURPOSE)
    admin.get_by_role("button", name="Issue the token").click()
    notice = admin.get_by_role("status").filter(has_text="will not be shown again")
    expect(notice).to_contain_text("po@example.com")
    token = admin.locator("#new-token").inner_text().strip()
    assert re.fullmatch(r"sc_\S{20,}", token), token
    screenshot(admin, "journey9-token-issued")

    # The report, outside any browser session, reads the stats with the token, as the product owner.
    report = new_page().request
    stats = report.get("/api/v1/stats/deflection", headers={"Authorization": f"Bearer {token}"})
    assert stats.status == 200, stats.text()
    assert "totals" in stats.json()

    # The list shows who it is for, never the token itself; revoking it stops the report.
    admin.goto("/admin/api_tokens/")
    row = admin.locator("main table tbody tr").filter(has_text=PURPOSE)
    expect(row).to_contain_text("po@example.com")
    assert token not in admin.locator("main").inner_text()
    row.locator("input[type=checkbox]").check()
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="With selected").click()
    admin.get_by_role("button", name="Revoke", exact=True).click()
    expect(admin.locator(".alert").filter(has_text="Revoked 1 token")).to_be_visible()
    expect(admin.locator("main table tbody tr").filter(has_text=PURPOSE).locator("td").last).not_to_be_empty()
    screenshot(admin, "journey9-token-revoked")
    refused = report.get("/api/v1/stats/deflection", headers={"Authorization": f"Bearer {token}"})
    assert refused.status == 401, refused.text()
