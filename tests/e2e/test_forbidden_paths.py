"""Journey 6: the paths a role may not take end on a clean page, never a stack trace or a bare error."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot


@pytest.mark.parametrize("path", ["/admin/audit/", "/admin/staff_users/", "/admin/api_tokens/"])
def test_agent_gets_a_not_allowed_page_inside_the_layout(new_page, path):
    page = new_page(as_user="agent@example.com")
    response = page.goto(path)
    assert response.status == 403
    expect(page).to_have_title("Not allowed · Support Console")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.get_by_role("alert")).to_contain_text("Your role (Agent) does not allow this page")
    # The layout is there: the menu, who is logged in, a way back.
    expect(page.get_by_role("navigation").first).to_contain_text("agent@example.com")
    expect(page.get_by_role("link", name="Back to the home page")).to_be_visible()
    expect(page.locator("nav[aria-label=breadcrumb]")).to_contain_text("Not allowed")
    if path == "/admin/audit/":
        screenshot(page, "forbidden-audit")


def test_the_menu_offers_an_agent_no_page_it_would_refuse(new_page):
    page = new_page(as_user="agent@example.com")
    page.goto("/admin/")
    menu = page.locator("#admin-navbar-collapse")
    for name in ("Audit trail", "Staff users", "API tokens", "Approvals"):
        expect(menu.get_by_role("link", name=name)).to_have_count(0)


def test_after_logging_out_pages_lead_to_the_login_form_and_back(new_page):
    page = new_page()
    # agent2 is nobody else's login in this suite: logging out ends every session of that user.
    login(page, "agent2@example.com")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    page.goto("/admin/runs/")
    assert "/login" in page.url
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.get_by_label("Email").fill("agent2@example.com")
    page.get_by_label("Password").fill("e2e-demo-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/runs/**")
    expect(page.locator("h1")).to_have_text("Run history")


def test_anonymous_user_gets_the_login_page(new_page):
    page = new_page()
    for path in ("/admin/", "/admin/tasks/unlock_account/", "/admin/deflection/"):
        page.goto(path)
        assert "/login" in page.url, path
        expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_form_without_its_csrf_token_is_rejected(new_page):
    page = new_page(as_user="agent@example.com")
    page.goto("/admin/")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label("Helpdesk ticket reference").fill("T-666")
    page.get_by_role("button", name="Start the ticket").click()
    expect(page.get_by_text("CSRF check")).to_be_visible()
    page.goto("/admin/")
    expect(page.locator("header, nav").first).not_to_contain_text("Ticket T-666")


def test_task_preview_without_its_csrf_token_changes_nothing(new_page):
    page = new_page(as_user="agent@example.com")
    page.goto("/admin/tasks/send_password_reset/?email=alice@example.com")
    page.get_by_label("Ticket", exact=True).fill("T-667")
    page.get_by_label("Reason").fill("Customer forgot the password")
    page.get_by_role("button", name="Preview").click()
    confirm = page.get_by_role("button", name="Confirm and run")
    expect(confirm).to_be_visible()  # the preview page has loaded: strip ITS tokens, not the form's
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    confirm.click()
    expect(page.get_by_text("CSRF check")).to_be_visible()
    page.goto("/admin/runs/?ticket=T-667")
    expect(page.locator("main")).to_contain_text("No runs match.")
