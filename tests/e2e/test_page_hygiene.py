"""Every key page of every role has a clear title, one heading, breadcrumbs, and no raw Python in sight."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import KEY_PAGES, preview_password_reset

# Text a person must never see: reprs, template syntax, stack traces, Python's None where a name belongs.
LEAKS = re.compile(r"<console\.|<admin_tasks\.|object at 0x|Traceback \(most recent|\{\{|\{%|\bNone\b|\bUndefined\b"
                   r"|datetime\.date(time)?\(|Decimal\(")


def check_page(page, where: str) -> None:
    title = page.title()
    assert re.fullmatch(r"\S.* · Support Console", title), f"{where}: unclear title {title!r}"
    assert not LEAKS.search(title), f"{where}: title {title!r}"
    headings = page.locator("main h1")
    expect(headings, f"{where}: one h1").to_have_count(1)
    assert headings.inner_text().strip(), f"{where}: empty h1"
    if where.split(" ", 1)[1].split("?")[0] != "/admin/":
        crumbs = page.locator("main nav[aria-label=breadcrumb] li")
        assert crumbs.count() >= 2, f"{where}: no breadcrumbs"
        assert crumbs.first.inner_text().strip() == "Home", f"{where}: breadcrumbs do not start at Home"
    text = page.locator("body").inner_text()
    leak = LEAKS.search(text)
    assert not leak, f"{where}: shows {leak.group(0)!r} in …{text[max(0, leak.start() - 80):leak.end() + 80]}…"


@pytest.mark.parametrize("email", list(KEY_PAGES))
def test_key_pages_have_a_title_breadcrumbs_and_no_raw_values(new_page, password_reset_run, email):
    page = new_page(as_user=email)
    paths = list(KEY_PAGES[email])
    if email in ("agent@example.com", "lead@example.com"):
        paths += [password_reset_run["run"], password_reset_run["ticket"]]
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, f"{email} {path}: {response.status}"
        check_page(page, f"{email} {path}")
    if email == "lead@example.com":
        page.goto("/admin/audit/")
        page.locator("main table tbody a").first.click()
        check_page(page, f"{email} audit entry {page.url}")


def test_the_task_preview_is_clean_too(new_page):
    page = new_page(as_user="agent@example.com")
    preview_password_reset(page, "T-901")
    check_page(page, "agent@example.com preview")


def test_the_leak_check_catches_a_raw_repr(new_page):
    page = new_page(as_user="agent@example.com")
    page.goto("/admin/")
    page.evaluate("document.querySelector('main h1').textContent = 'Welcome, <console.auth.models.StaffUser object at 0x7f>'")
    with pytest.raises(AssertionError, match="object at 0x|<console"):
        check_page(page, "agent@example.com /admin/")
