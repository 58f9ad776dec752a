"""Journey 8: the developer on duty's day. An urgent escalation interrupts them at once; one that is not urgent
waits for the daily digest; the support duty page counts both, per developer per day.

The escalation journey (4) covers closing an escalation with its 5 whys; this one is about being interrupted.
"""
import re

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, start_ticket


def escalate(agent, ref: str, missing_tool: str, note: str, *, urgent: bool) -> str:
    """Escalate `ref` as a small change from the ticket page; the developer on duty it went to."""
    start_ticket(agent, ref)
    form = agent.locator("section", has=agent.get_by_role("heading", name="Escalate to the developer on duty"))
    form.get_by_label(re.compile(r"^small_change")).check()
    form.get_by_label("Category").select_option("orders")
    form.get_by_label("Which tool or runbook would have let you resolve this yourself?").fill(missing_tool)
    form.get_by_label("Note: what you checked and tried").fill(note)
    if urgent:
        form.get_by_label("Urgent: the customer cannot wait for tomorrow").check()
    form.get_by_role("button", name="Escalate").click()
    notice = agent.get_by_role("status").filter(has_text=f"Escalated ticket {ref}")
    expect(notice).to_be_visible()
    return re.search(r"to (\S+@\S+), the developer on support duty", notice.inner_text()).group(1)


def interruptions_of(page, developer: str) -> dict[str, str]:
    """The developer's row of the interruptions table, by column heading."""
    table = page.locator("section", has=page.locator("#interruptions-title")).locator("table")
    headings = table.locator("thead th").all_inner_texts()
    row = table.locator("tbody tr").filter(has=page.get_by_role("cell", name=developer, exact=True))
    return dict(zip(headings, row.locator("td").all_inner_texts()))


def test_an_urgent_escalation_interrupts_at_once_and_the_others_wait_for_the_digest(new_page, demo_cli):
    # "Since" counts from the first digest. Before 09:00 the demo has sent none, and every escalation counted as
    # "before" (this test failed between midnight and 09:00 UTC): send today's, as `--now` lets an operator.
    demo_cli("deflection", "digest", "--now")
    agent = new_page(as_user="agent@example.com")
    # Not urgent: it reaches the developer on duty in tomorrow's digest, not now.
    developer = escalate(agent, "T-411", "a task to change a parcel's delivery slot",
                         "Customer wants the parcel next week instead.", urgent=False)
    expect(agent.locator("h2:has-text('Timeline') + *")).to_contain_text("escalated small change")
    expect(agent.locator("h2:has-text('Timeline') + *").locator(".badge", has_text="urgent")).to_have_count(0)

    dev = new_page(as_user=developer)
    dev.goto("/admin/on-duty/")
    interruptions = dev.locator("section", has=dev.locator("#interruptions-title"))
    expect(interruptions).to_contain_text("Urgent escalations reach the developer at once; "
                                          "the others wait for one digest a day at 09:00")
    before = interruptions_of(dev, developer)

    assert escalate(agent, "T-410", "a task to reship a lost parcel today",
                    "Wedding dress lost in transit; the wedding is on Saturday.", urgent=True) == developer
    expect(agent.locator("h2:has-text('Timeline') + *").locator(".badge", has_text="urgent")).to_be_visible()
    dev.reload()
    after_urgent = interruptions_of(dev, developer)
    assert int(after_urgent["Since: urgent"]) == int(before["Since: urgent"]) + 1, (before, after_urgent)

    assert escalate(agent, "T-412", "a task to change a parcel's delivery slot",
                    "Second customer asking to move a delivery.", urgent=False) == developer
    dev.reload()
    after = interruptions_of(dev, developer)
    assert after["Since: urgent"] == after_urgent["Since: urgent"], (after_urgent, after)  # it waits
    assert after["Since: digests"] == before["Since: digests"], (before, after)  # until the digest
    # All three are routed to the developer, whether they interrupted or wait.
    routed = dev.locator("h2:has-text('Routed to you') + table")
    for ref in ("T-410", "T-411", "T-412"):
        expect(routed.get_by_role("link", name=ref, exact=True)).to_be_visible()
    dev.locator("#interruptions-title").scroll_into_view_if_needed()
    screenshot(dev, "journey8-on-duty", docs=True)

    # The developer opens the urgent one from their home page first.
    dev.goto("/admin/")
    duty = dev.locator("section", has=dev.get_by_role("heading", name="Support duty"))
    duty.get_by_role("link", name="T-410", exact=True).click()
    expect(dev.locator("h1")).to_contain_text("Ticket T-410")
    expect(dev.locator("main")).to_contain_text("Wedding dress lost in transit")
    expect(dev.get_by_label("Why 5: the root cause")).to_be_visible()
