"""Issue 18, item 7: the top bar never wraps at 1280 px, for any role, a long ticket reference included.

A wrapped bar pushes every page down and hides the menu's last entries under the first; it happened as menus
grew per role. The bar is one line when all its items (brand, menu entries, the user, the ticket, Log out)
stand in one row: the gap between the highest top and the lowest bottom is no more than the tallest item.
"""
import pytest

from tests.e2e.conftest import screenshot, start_ticket

LONG_REF = "HD-" + "7" * 37  # the longest reference the default pattern allows
ITEMS = ("#admin-navbar-collapse > .navbar-brand, #admin-navbar-collapse > ul > li, "
         "#admin-navbar-collapse > .navbar-text, #admin-navbar-collapse > form")


def bar_rows(page) -> dict:
    """The top bar's items' vertical extent, and the tallest item, in CSS pixels."""
    return page.evaluate("""(selector) => {
        const boxes = [...document.querySelectorAll(selector)].map(e => e.getBoundingClientRect())
            .filter(b => b.width > 0 && b.height > 0);
        return {count: boxes.length, top: Math.min(...boxes.map(b => b.top)),
                bottom: Math.max(...boxes.map(b => b.bottom)), tallest: Math.max(...boxes.map(b => b.height))};
    }""", ITEMS)


def assert_one_line(page, what: str) -> None:
    rows = bar_rows(page)
    assert rows["count"] >= 4, f"{what}: the top bar's items were not found ({rows})"
    assert rows["bottom"] - rows["top"] <= rows["tallest"] + 1, f"{what}: the top bar wraps ({rows})"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, f"{what}: the page scrolls sideways"


@pytest.mark.parametrize("email, works_tickets", [
    ("agent@example.com", True), ("lead@example.com", True), ("admin@example.com", True),
    ("dev@example.com", False), ("po@example.com", False)])
def test_the_top_bar_is_one_line_at_1280_px_for_every_role(new_page, email, works_tickets):
    page = new_page(as_user=email, width=1280)
    page.goto("/admin/")
    role = email.split("@")[0]
    screenshot(page, f"top-bar-{role}")
    assert_one_line(page, f"{email} on the home page")
    if works_tickets:
        start_ticket(page, LONG_REF)
        page.goto("/admin/records/customers/")
        screenshot(page, f"top-bar-{role}-long-ticket")
        assert page.locator(".ticket-badge").get_attribute("title") == f"Current ticket: {LONG_REF}"
        assert_one_line(page, f"{email} with ticket {LONG_REF}")
