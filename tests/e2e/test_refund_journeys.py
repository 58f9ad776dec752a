"""Journeys 2 and 3: refunds on alice's order 1004 (total EUR 250.00).

The two journeys refund EUR 30.00 and EUR 120.00: EUR 150.00 in all, so they pass in either order. Amounts
are typed in euros, as an agent reads them, and every page shows them so.
"""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import login, main_text, screenshot, start_ticket
from tests.e2e.journeys import change, fill_why, run_status
from tests.e2e.test_accessibility import assert_accessible


def cents(text: str) -> int:
    """'EUR 250.00' -> 25000."""
    match = re.search(r"(\d+)\.(\d\d)", text)
    assert match, f"no amount in {text!r}"
    return int(match.group(1)) * 100 + int(match.group(2))


def refunded_on_order_page(page) -> int:
    row = page.locator("table.kv tr").filter(has=page.locator("th", has_text="Refunded"))
    return cents(row.locator("td").inner_text())


def open_order_by_number(page, number: str) -> None:
    """Orders menu, search by number, open the order."""
    page.get_by_role("link", name="Orders", exact=True).first.click()
    page.get_by_label("Find orders").fill(number)
    page.get_by_role("button", name="Find").click()
    page.locator("main table").get_by_role("link", name=number, exact=True).click()
    expect(page.locator("h1")).to_contain_text(f"Order {number}")


def euros(amount: int) -> str:
    """25000 -> 'EUR 250.00', as the pages show an amount."""
    return f"EUR {amount // 100:,}.{amount % 100:02d}"


def test_agent_finds_order_1004_by_number_and_refunds_30_euros(new_page):
    page = new_page(as_user="agent@example.com")
    start_ticket(page, "T-200")
    open_order_by_number(page, "1004")
    expect(page.locator("main")).to_contain_text("EUR 250.00")
    # Personal data stays masked until revealed with a reason.
    customer = page.locator("table.kv tr").filter(has=page.locator("th", has_text="Customer"))
    expect(customer.locator("td")).to_have_text(re.compile("•"))
    assert "alice@example.com" not in main_text(page)
    before = refunded_on_order_page(page)
    # Delivered: the order offers a refund, not a cancellation or a stuck-order fix, and says why.
    offers = page.locator("#offers-title").locator("..")
    expect(offers.get_by_role("link", name="Refund an order")).to_be_visible()
    expect(offers.get_by_role("link", name="Cancel an order")).to_have_count(0)
    expect(offers.get_by_role("link", name="Fix an order stuck in processing")).to_have_count(0)
    expect(page.locator("#offers-not-applying")).to_contain_text("Cancel an order (the order is delivered")
    screenshot(page, "journey2-order", docs=True)

    page.get_by_role("link", name="Refund an order").click()
    expect(page.get_by_label("Order number")).to_have_value("1004")
    expect(page.get_by_label("Ticket", exact=True)).to_have_value("T-200")
    expect(page.locator("#amount_cents-currency")).to_have_text("EUR")  # the currency beside the box
    page.get_by_label("Amount to refund").fill("30")
    page.get_by_label("Reason").fill("Coffee beans arrived crushed")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("table.kv")).to_contain_text("EUR 30.00")
    assert change(page, "orders", "refunded_cents") == (euros(before), euros(before + 3000))
    assert change(page, "refunds", "amount_cents") == ("—", "EUR 30.00")
    expect(page.locator("main")).to_contain_text("it runs as soon as you confirm")
    expect(page.locator("#preview-result")).to_contain_text("Will refund EUR 30.00 on order 1004")  # not done yet
    screenshot(page, "journey2-preview")

    page.get_by_role("button", name="Confirm and run").click()
    page.wait_for_url("**/admin/runs/*")
    assert run_status(page) == "succeeded"
    assert change(page, "orders", "refunded_cents") == (euros(before), euros(before + 3000))
    expect(page.locator("#run-result")).to_contain_text("Refunded EUR 30.00 on order 1004")
    # The next step: the task's reply to paste to the customer, and resolving the ticket.
    expect(page.locator("#suggested-reply")).to_have_value(re.compile(r"^We have refunded EUR 30\.00 on your order 1004"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the reply").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()").startswith("We have refunded EUR 30.00")
    screenshot(page, "journey2-run", docs=True)
    page.get_by_role("button", name="Resolve ticket T-200").click()
    page.wait_for_url("**/admin/tickets/view**")
    expect(page.locator("main")).to_contain_text("Ticket T-200 is now")
    expect(page.get_by_role("button", name="Mark resolved")).to_have_count(0)  # only what its state allows
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()

    open_order_by_number(page, "1004")
    assert refunded_on_order_page(page) == before + 3000
    expect(page.locator("main")).to_contain_text("Coffee beans arrived crushed")


def test_lead_approves_a_high_risk_refund_in_a_second_browser(new_page):
    agent = new_page()
    login(agent, "agent@example.com")
    agent.goto("/admin/records/orders/1004")
    before = refunded_on_order_page(agent)
    agent.get_by_role("link", name="Refund an order").click()
    agent.get_by_label("Amount to refund").fill("120.00")
    fill_why(agent, "T-300", "Wool blanket arrived torn; customer sent a photo")
    agent.get_by_role("button", name="Preview").click()
    expect(agent.locator("main")).to_contain_text("Needs a lead's approval")
    expect(agent.locator("main")).to_contain_text("high risk")
    agent.get_by_role("button", name="Confirm and ask for approval").click()
    agent.wait_for_url("**/admin/runs/*")
    run_url = agent.url
    run_id = run_url.rstrip("/").rsplit("/", 1)[1]
    assert run_status(agent) == "pending approval"
    expect(agent.locator("main")).to_contain_text("Another lead or admin must approve it")
    screenshot(agent, "journey3-pending", docs=True)

    lead = new_page()
    login(lead, "lead@example.com")
    expect(lead.locator("#home-approvals")).to_be_visible()
    lead.get_by_role("link", name="All pending approvals").click()
    expect(lead.locator("h1")).to_have_text("Runs waiting for approval")
    row = lead.locator("main table tbody tr").filter(has_text="T-300")
    expect(row).to_contain_text("Refund an order")
    expect(row).to_contain_text("agent@example.com")
    expect(row).to_contain_text("EUR 120.00")
    expect(row.locator(".run-does")).to_contain_text("Approving it will change the refunded amount of Order 1004")
    screenshot(lead, "journey3-approvals", docs=True)
    row.get_by_role("link", name=re.compile(rf"#{run_id}\b")).click()
    assert change(lead, "orders", "refunded_cents") == (euros(before), euros(before + 12000))
    lead.get_by_label("Reason for approving").fill("Photo of the torn blanket is on the ticket")
    lead.get_by_role("button", name="Approve and run").click()
    expect(lead.locator("h1 .badge")).to_have_text("succeeded")
    screenshot(lead, "journey3-approved")
    # The lead reads the story on the ticket: one run, from the agent's request to its outcome.
    lead.get_by_role("link", name="ticket page").click()
    expect(lead.locator("h1")).to_contain_text("Ticket T-300")
    story = lead.locator("ul.run-stories > li").filter(has_text=f"Run #{run_id}")
    expect(story).to_contain_text("requested by agent@example.com")
    expect(story).to_contain_text("approved by lead@example.com")
    expect(story).to_contain_text("succeeded")

    agent.reload()
    assert run_status(agent) == "succeeded"
    approved = agent.locator("table.kv tr").filter(has=agent.locator("th", has_text="Approved by"))
    expect(approved).to_contain_text("lead@example.com")
    expect(approved).to_contain_text("Photo of the torn blanket is on the ticket")
    assert change(agent, "orders", "refunded_cents") == (euros(before), euros(before + 12000))
    expect(agent.locator("#suggested-reply")).to_have_value(re.compile(r"^We have refunded EUR 120\.00"))
    screenshot(agent, "journey3-succeeded")


def test_the_refund_form_takes_euros_and_names_a_bad_amount(new_page):
    page = new_page(as_user="agent@example.com", bypass_csp=True)
    page.goto("/admin/tasks/refund_order/?order_id=1004")
    amount = page.get_by_label("Amount to refund")
    expect(amount).to_have_attribute("inputmode", "decimal")
    expect(page.locator("#amount_cents-currency")).to_have_text("EUR")
    assert_accessible(page, "refund form")
    amount.fill("30.005")
    fill_why(page, "T-301", "Checking the amount rules")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#amount_cents-error")).to_have_text("Amount to refund may have at most 2 decimals in EUR")
    expect(amount).to_have_value("30.005")  # what was typed stays, to be corrected
    assert_accessible(page, "refund form with a bad amount")
    screenshot(page, "refund-bad-amount")
