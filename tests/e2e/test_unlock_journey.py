"""Journey 1: a locked-out customer. Ticket, runbook search, the runbook's unlock button, preview, confirm."""
from playwright.sync_api import expect

from tests.e2e.conftest import login, main_text, screenshot, start_ticket
from tests.e2e.journeys import change, run_status


def test_agent_unlocks_an_account_from_the_runbook_and_the_ticket_shows_it(new_page):
    page = new_page()
    login(page, "agent@example.com")
    start_ticket(page, "T-100")
    expect(page.locator("h1")).to_contain_text("Ticket T-100")
    expect(page.locator("main")).to_contain_text("No task has been run on this ticket.")

    page.get_by_role("link", name="Find a runbook").click()
    page.get_by_label("What does the customer say?").fill("can't log in")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#runbook-results li")
    expect(results.first).to_contain_text("Customer cannot log in")
    screenshot(page, "journey1-runbook-search")

    results.first.get_by_role("link", name="Customer cannot log in").click()
    expect(page.locator("h1")).to_have_text("Customer cannot log in")
    expect(page.locator("main")).to_contain_text("for ticket T-100")
    page.get_by_label("Customer email").fill("locked@example.com")
    page.get_by_role("button", name="Fill").click()
    screenshot(page, "journey1-runbook")

    page.get_by_role("link", name="Unlock the account").click()
    expect(page.locator("h1")).to_have_text("Unlock a customer account")
    expect(page.get_by_label("Customer email")).to_have_value("locked@example.com")
    expect(page.get_by_label("Ticket", exact=True)).to_have_value("T-100")
    expect(page.get_by_label("Reason")).not_to_have_value("")
    screenshot(page, "journey1-task-form")

    page.get_by_role("button", name="Preview").click()
    expect(page.locator("h1")).to_have_text("Preview: Unlock a customer account")
    expect(page.locator("main")).to_contain_text("Nothing has changed yet.")
    assert change(page, "customers", "status") == ("locked", "active")
    assert change(page, "customers", "failed_login_count")[1] == "0"
    screenshot(page, "journey1-preview", docs=True)

    page.get_by_role("button", name="Confirm and run").click()
    page.wait_for_url("**/admin/runs/*")
    assert run_status(page) == "succeeded"
    # Others read run pages: the customer's email is masked there, as on the lookup pages.
    assert "Unlocked lo•••d@e•••.com" in main_text(page) and "locked@example.com" not in main_text(page)
    assert change(page, "customers", "status") == ("locked", "active")
    screenshot(page, "journey1-run")
    run_url = page.url

    page.get_by_role("link", name="ticket page").click()
    expect(page.locator("h1")).to_contain_text("Ticket T-100")
    runs = page.locator("h2:has-text('Task runs') + ul")
    expect(runs).to_contain_text("Unlock a customer account")
    expect(runs).to_contain_text("succeeded")
    viewed = page.locator("h2:has-text('Runbooks viewed') + ul a")
    expect(viewed).to_have_count(1)
    expect(viewed).to_have_attribute("href", "/admin/runbooks/cannot-log-in/")
    expect(viewed).to_have_text("Customer cannot log in")
    screenshot(page, "journey1-ticket", docs=True)

    # The next step, back on the run page: the unlock's reply to the customer, and resolving the ticket.
    page.goto(run_url)
    expect(page.locator("#suggested-reply")).to_have_value("We have unlocked your account: you can sign in again now.")
    page.get_by_role("button", name="Resolve ticket T-100").click()
    page.wait_for_url("**/admin/tickets/view?ref=T-100")
    expect(page.get_by_role("status").filter(has_text="Ticket T-100 is now")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("deflected by task")  # a task did it: no developer needed
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()

    # The customer really is unlocked: the lookup page says so.
    page.goto("/admin/records/customers/?q=locked@example.com")
    expect(page.locator("table tbody tr").first).to_contain_text("active")
