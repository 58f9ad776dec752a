"""The first minutes: the login page, the demo notice, each role's home page, the forbidden paths."""
from tests.e2e.conftest import login, screenshot


def test_login_page_says_it_is_a_demo(new_page):
    page = new_page()
    page.goto("/login")
    assert page.get_by_text("This is a demo.").is_visible()
    screenshot(page, "login")


def test_anonymous_user_gets_the_login_page(new_page):
    page = new_page()
    page.goto("/admin/")
    assert "/login" in page.url
    assert page.get_by_role("button", name="Log in").is_visible()


def test_wrong_password_shows_a_generic_message(new_page):
    page = new_page()
    login_page = page.goto("/login")
    assert login_page.status == 200
    page.get_by_label("Email").fill("agent@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Email or password is not right.").is_visible()


def test_agent_logs_in_and_sees_the_home_page(new_page):
    page = new_page()
    login(page, "agent@example.com")
    assert page.get_by_text("agent@example.com").first.is_visible()
    screenshot(page, "home-agent")


def test_form_without_its_csrf_token_is_rejected(new_page):
    page = new_page()
    login(page, "agent@example.com")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_text("CSRF check").is_visible()
