"""Journey 6: an agent's day with their tickets. They work T-510, ask a lead to approve a refund, hear back on
their home page, find the ticket again by reference and by customer, see the run told once, and resolve it."""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot, start_ticket
from tests.e2e.journeys import fill_why, run_status

TICKET = "T-510"


def ask_for_a_refund_on_order_1002(agent) -> str:
    """The whole of order 1002 (EUR 104.00) is more than an agent may refund alone: it waits for a lead."""
    agent.goto("/admin/orders/1002")
    agent.get_by_role("link", name="Refund an order").click()
    agent.get_by_label("Amount to refund").fill("104.00")
    fill_why(agent, TICKET, "Backpack never arrived; the carrier confirmed the loss")
    agent.get_by_role("button", name="Preview").click()
    agent.get_by_role("button", name="Confirm and ask for approval").click()
    agent.wait_for_url("**/admin/runs/*")
    assert run_status(agent) == "pending approval"
    return agent.url.rstrip("/").rsplit("/", 1)[1]


def test_an_agent_finds_their_ticket_and_its_whole_story(new_page):
    agent = new_page(as_user="agent@example.com")
    start_ticket(agent, TICKET)
    run_id = ask_for_a_refund_on_order_1002(agent)

    lead = new_page()
    login(lead, "lead@example.com")
    lead.goto("/admin/approvals/")
    row = lead.locator("main table tbody tr").filter(has_text=TICKET)
    row.get_by_role("link", name=re.compile(rf"#{run_id}\b")).click()
    lead.get_by_label("Reason for approving").fill("Carrier confirmed the loss on the phone")
    lead.get_by_role("button", name="Approve and run").click()
    expect(lead.locator("h1 .badge")).to_have_text("succeeded")

    # The requester hears back on their home page.
    agent.goto("/admin/")
    notice = agent.locator("section", has=agent.locator("#home-decisions"))
    expect(notice).to_contain_text(f"Run #{run_id}")
    expect(notice).to_contain_text("approved by lead@example.com")
    expect(notice).to_contain_text("succeeded")
    screenshot(agent, "journey6-home-notice")

    # Their open tickets are the list's first view; a reference or the customer's email finds the ticket too.
    agent.goto("/admin/tickets/")
    expect(agent.get_by_role("link", name="My open tickets")).to_have_attribute("aria-current", "page")
    mine = agent.locator("main table tbody")
    expect(mine.get_by_role("link", name=TICKET, exact=True)).to_be_visible()
    screenshot(agent, "journey6-my-tickets", docs=True)
    for search in (TICKET, "alice@example.com"):
        agent.get_by_label("Reference or customer email").fill(search)
        agent.get_by_role("button", name="Find").click()
        expect(agent.locator("main table tbody").get_by_role("link", name=TICKET, exact=True)).to_be_visible()

    # The run is told once, from the request to its outcome.
    agent.locator("main table tbody").get_by_role("link", name=TICKET, exact=True).click()
    runs = agent.locator("ul.run-stories > li")
    expect(runs).to_have_count(1)
    expect(runs).to_contain_text(f"Run #{run_id}")
    expect(runs).to_contain_text("requested by agent@example.com")
    expect(runs).to_contain_text("approved by lead@example.com")
    expect(runs).to_contain_text("succeeded")
    expect(agent.locator("main")).not_to_contain_text("pending approval")
    screenshot(agent, "journey6-ticket-story", docs=True)

    # Resolved, the ticket offers only what its state allows: reopening, not escalating.
    agent.get_by_role("button", name="Mark resolved").click()
    expect(agent.locator("h1")).to_contain_text("deflected by task")
    expect(agent.get_by_role("button", name="Reopen")).to_be_visible()
    expect(agent.get_by_role("button", name="Escalate")).to_have_count(0)
    expect(agent.get_by_role("button", name="Mark resolved")).to_have_count(0)


def test_a_long_reference_never_wraps_the_top_bar(new_page):
    page = new_page(as_user="agent@example.com")
    start_ticket(page, "T-5100")  # a usual reference
    one_line = page.locator("nav.navbar").first.bounding_box()["height"]
    long_ref = "HD-" + "7" * 37  # the longest reference the default pattern allows
    start_ticket(page, long_ref)
    badge = page.locator(".ticket-badge")
    expect(badge).to_have_attribute("title", f"Current ticket: {long_ref}")
    screenshot(page, "journey6-long-reference")
    assert page.locator("nav.navbar").first.bounding_box()["height"] == one_line
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
