"""The first minutes: the demo's welcome box, the login page, and what each role's home page starts them on."""
import re
import sqlite3
from contextlib import closing

from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot


def _busiest_developer(console_db) -> tuple[str, int]:
    """The developer with the most open escalations in the demo's console database, and how many."""
    with closing(sqlite3.connect(console_db)) as db:
        return db.execute(
            "SELECT assignee, count(*) FROM tickets WHERE outcome = 'escalated' AND escalation_closed_at IS NULL"
            " AND assignee != '' GROUP BY assignee ORDER BY count(*) DESC, assignee LIMIT 1").fetchone()


def test_demo_prints_the_url_and_the_logins_in_a_box(demo_server):
    base, log = demo_server
    output = log.read_text(encoding="utf-8")
    box = output[output.index("┌"):output.index("┘") + 1]
    assert f"Support Console demo: {base}/" in box
    for email in ("agent@example.com", "lead@example.com", "po@example.com", "dev@example.com", "admin@example.com"):
        assert email in box
    assert len(box.splitlines()) <= 20


def test_login_page_says_it_is_a_demo(new_page):
    page = new_page()
    page.goto("/login")
    expect(page).to_have_title("Log in · Support Console")
    expect(page.get_by_text("This is a demo.")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("agent@example.com")
    screenshot(page, "login")


def test_wrong_password_shows_a_generic_message(new_page):
    page = new_page()
    login_page = page.goto("/login")
    assert login_page.status == 200
    page.get_by_label("Email").fill("agent@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Email or password is not right.")).to_be_visible()
    assert "/login" in page.url


def section(page, heading: str):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def test_agent_starts_from_a_ticket_and_the_runbook_search(new_page):
    page = new_page()
    login(page, "agent@example.com")
    expect(page.locator("h1")).to_have_text("Welcome, Avery Agent")
    expect(page.get_by_role("navigation").first).to_contain_text("agent@example.com")
    start = section(page, "Start a ticket")
    expect(start).to_be_in_viewport()
    expect(start.get_by_label("Helpdesk ticket reference")).to_be_visible()
    expect(start.get_by_role("button", name="Start the ticket")).to_be_visible()
    search = section(page, "Search the runbooks")
    expect(search).to_be_in_viewport()
    expect(search.get_by_label("What does the customer say?")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for your approval")).to_have_count(0)
    screenshot(page, "home-agent", docs=True)


def test_lead_starts_from_the_pending_approvals(new_page):
    page = new_page(as_user="lead@example.com")
    page.goto("/admin/")
    approvals = section(page, "Waiting for your approval")
    expect(approvals).to_be_in_viewport()
    expect(approvals.get_by_role("link", name="All pending approvals")).to_be_visible()
    screenshot(page, "home-lead")


def test_product_owner_starts_from_the_dashboard(new_page):
    page = new_page(as_user="po@example.com")
    page.goto("/admin/")
    summary = section(page, "Deflection, last four weeks")
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text(re.compile(r"\d+% of decided tickets were deflected"))
    expect(summary.get_by_role("link", name="Open the deflection dashboard")).to_be_visible()
    # A product owner runs no task and works no ticket.
    expect(page.get_by_role("heading", name="Start a ticket")).to_have_count(0)
    screenshot(page, "home-product-owner")


def test_developer_starts_from_the_escalations_on_duty_and_writing_a_task(new_page, demo_server):
    # The duty moves every sprint, so who is on it depends on today's date: read it off the page.
    page = new_page(as_user="dev@example.com")
    page.goto("/admin/")
    duty = section(page, "Support duty")
    expect(duty).to_be_in_viewport()
    expect(duty).to_contain_text(re.compile(r"On duty this sprint \(\d{1,2} \w{3} \d{4} to \d{1,2} \w{3} \d{4}\): \S+@"))
    expect(duty.get_by_role("link", name="Rotation and all open escalations")).to_be_visible()
    write = section(page, "Write a task")
    expect(write).to_contain_text("support-console tasks new")

    # Whoever has escalations open is shown them, counted exactly as the console database holds them.
    developer, count = _busiest_developer(demo_server[1].parent / "console.db")
    page = new_page(as_user=developer)
    page.goto("/admin/")
    duty = section(page, "Support duty")
    expect(duty).to_contain_text(f"Escalations routed to you: {count} open, newest first")
    expect(duty.locator("table tbody tr").first).to_be_visible()
    screenshot(page, "home-developer")
