"""Journey 7: the whole of a ticket done with the keyboard alone (Tab, Enter and typing; no mouse).

Log in, start a ticket, search the runbooks, open the runbook, fill the customer's email, follow its task
button, preview, confirm: once for a customer who forgot their password, once for a locked-out customer
(the unlock journey; journey 1 uses the demo's named locked account, so this one locks another).
"""
import sqlite3
from urllib.parse import quote

from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, screenshot
from tests.e2e.journeys import run_status

MAX_TABS = 80


def focused(page) -> str:
    return page.evaluate("""() => {
        const el = document.activeElement;
        return el ? `${el.tagName.toLowerCase()} ${(el.innerText || el.value || el.name || '').trim().slice(0, 60)}` : '';
    }""")


def tab_to(page, locator, what: str) -> None:
    """Press Tab until `locator` has the focus, and check that the focus can be seen."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            ring = locator.evaluate("el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth]; }")
            assert ring[0] != "none" and float(ring[1].removesuffix("px")) >= 2, \
                f"{what} has the focus but no clear focus ring: outline {ring}"
            return
        seen.append(focused(page))
    raise AssertionError(f"Tab never reached {what}; it went through: {seen}")


def keyboard_journey(page, *, ticket: str, says: str, runbook: str, slug: str, email: str, button: str,
                     task: str, title: str, before_preview=lambda page: None) -> None:
    """Log in, start the ticket, find the runbook, fill the email, follow the task button, preview, confirm."""
    page.goto("/login")
    tab_to(page, page.get_by_label("Email"), "the email field")
    page.keyboard.type("agent@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")

    # The skip link is the first stop, so the menu can be passed in one key press.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the main content")).to_be_focused()
    expect(page.get_by_role("link", name="Skip to the main content")).to_be_in_viewport()

    tab_to(page, page.get_by_label("Helpdesk ticket reference"), "the ticket reference")
    page.keyboard.type(ticket)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/view?ref={ticket}")

    tab_to(page, page.get_by_role("link", name="Find a runbook"), "Find a runbook")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/runbooks/")
    # The search field has the focus as soon as the page opens.
    expect(page.get_by_label("What does the customer say?")).to_be_focused()
    page.keyboard.type(says)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/runbooks/?q=*")

    tab_to(page, page.locator("#runbook-results").get_by_role("link", name=runbook), "the runbook")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runbooks/{slug}/")

    tab_to(page, page.get_by_label("Customer email"), "the customer email")
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**email={quote(email, safe='')}*")

    tab_to(page, page.get_by_role("link", name=button), "the task button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tasks/{task}/*")
    expect(page.get_by_label("Customer email")).to_have_value(email)
    expect(page.get_by_label("Ticket", exact=True)).to_have_value(ticket)

    tab_to(page, page.get_by_role("button", name="Preview"), "Preview")
    before_preview(page)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(f"Preview: {title}")

    tab_to(page, page.get_by_role("button", name="Confirm and run"), "Confirm and run")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/runs/*")
    assert run_status(page) == "succeeded"


def test_a_ticket_from_login_to_confirmed_run_by_keyboard_only(new_page):
    page = new_page()
    keyboard_journey(page, ticket="T-700", says="forgot my password", runbook="Password reset", slug="password-reset",
                     email="alice@example.com", button="Send a password reset", task="send_password_reset",
                     title="Send a password reset",
                     before_preview=lambda page: screenshot(page, "journey7-keyboard-focus"))
    expect(page.locator("main")).to_contain_text("Queued a password reset email to al•••e@e•••.com")


def _lock_a_customer(demo_server) -> str:
    """A locked customer of the demo shop other than journey 1's, locked here as a bad deploy would."""
    shop = demo_server[1].parent / "shop.db"
    with sqlite3.connect(shop) as db:
        found = db.execute("SELECT email FROM customers WHERE status = 'locked' AND email <> 'locked@example.com' "
                           "ORDER BY id LIMIT 1").fetchone()
        if found:
            return found[0]
        customer_id, email = db.execute("SELECT id, email FROM customers WHERE status = 'active' "
                                        "ORDER BY id DESC LIMIT 1").fetchone()
        db.execute("UPDATE customers SET status = 'locked', failed_logins = 5 WHERE id = ?", (customer_id,))
        return email


def test_the_unlock_journey_by_keyboard_only(new_page, demo_server):
    keyboard_journey(new_page(), ticket="T-701", says="can't log in", runbook="Customer cannot log in",
                     slug="cannot-log-in", email=_lock_a_customer(demo_server), button="Unlock the account",
                     task="unlock_account", title="Unlock a customer account")
