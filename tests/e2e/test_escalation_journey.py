"""Journey 4: an agent escalates a small change with the tool they missed; the developer on duty sees it."""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot, start_ticket

MISSING_TOOL = "a task to split an order into two parcels"


def test_escalation_reaches_the_developer_on_duty(new_page):
    agent = new_page(as_user="agent@example.com")
    start_ticket(agent, "T-400")
    escalate = agent.locator("section", has=agent.get_by_role("heading", name="Escalate to the developer on duty"))
    escalate.get_by_label(re.compile(r"^small_change")).check()
    escalate.get_by_label("Category").select_option("orders")
    escalate.get_by_label("Which tool or runbook would have let you resolve this yourself?").fill(MISSING_TOOL)
    escalate.get_by_label("Note: what you checked and tried").fill("Customer wants the blanket sent ahead of the rest.")
    escalate.get_by_role("button", name="Escalate").click()

    notice = agent.get_by_role("status").filter(has_text="Escalated ticket T-400")
    expect(notice).to_be_visible()
    on_duty = re.search(r"to (\S+@\S+), the developer on support duty", notice.inner_text())
    assert on_duty, notice.inner_text()
    developer = on_duty.group(1)
    expect(agent.locator("h1")).to_contain_text("escalated")
    details = agent.locator("table.kv")
    expect(details.locator("tr", has_text="Developer on duty")).to_contain_text(developer)
    expect(details.locator("tr", has_text="Missing tool")).to_contain_text(MISSING_TOOL)
    expect(details.locator("tr", has_text="Escalation")).to_contain_text("small change")
    screenshot(agent, "journey4-escalated")

    dev = new_page()
    login(dev, developer)
    duty = dev.locator("section", has=dev.get_by_role("heading", name="Support duty"))
    expect(duty).to_contain_text(f"{developer} (you)")
    mine = duty.locator("table tbody tr").filter(has=dev.get_by_role("link", name="T-400", exact=True))
    expect(mine).to_contain_text("small change")
    expect(mine).to_contain_text(MISSING_TOOL)
    screenshot(dev, "journey4-developer-home", docs=True)

    dev.get_by_role("link", name="Rotation and all open escalations").click()
    dev.locator("main").get_by_role("link", name="T-400", exact=True).first.click()
    expect(dev.locator("h1")).to_contain_text("Ticket T-400")
    expect(dev.get_by_role("heading", name="Developer time")).to_be_visible()
    screenshot(dev, "journey4-developer-ticket")

    # The agent picked from suggestions: the task catalogue's titles are offered, no script needed.
    agent.goto("/admin/tickets/view?ref=T-401")
    options = agent.locator("#missing-tool-suggestions option")
    assert "Refund an order" in [options.nth(i).get_attribute("value") for i in range(options.count())]
    expect(agent.locator("#escalate-missing")).to_have_attribute("required", "")

    # The developer closes the escalation with its 5 whys and an action, then marks the action done.
    time_form = dev.locator("section", has=dev.get_by_role("heading", name="Developer time"))
    time_form.get_by_label("Minutes spent").fill("40")
    time_form.get_by_label("Close the escalation").check()
    time_form.get_by_role("button", name="Log time").click()
    expect(dev.locator(".invalid-feedback, .text-danger").first).to_contain_text("5-whys")
    for number, answer in enumerate(("The parcel had to be split", "Support cannot split an order",
                                     "No task splits orders", "Splitting looked rare"), 1):
        time_form.locator(f"#time-why-{number}").fill(answer)
    time_form.get_by_label("Why 5: the root cause").fill("Nobody counted how often orders are split")
    time_form.get_by_label("a task to build").check()
    time_form.get_by_label("What exactly").fill("A task that splits an order into two parcels")
    time_form.get_by_role("button", name="Log time").click()
    expect(dev.get_by_role("status").filter(has_text="closed the escalation")).to_be_visible()
    cause = dev.locator("section", has=dev.get_by_role("heading", name="Root cause"))
    expect(cause).to_contain_text("Root cause: Nobody counted how often orders are split")
    cause.scroll_into_view_if_needed()
    screenshot(dev, "journey4-root-cause", docs=True)
    cause.get_by_role("button", name="Mark the action done").click()
    expect(cause.locator(".badge", has_text="done")).to_be_visible()
