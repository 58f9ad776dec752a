"""axe-core over the key pages of every role: no serious or critical violation, contrast included.

axe-core comes from the `axe-playwright-python` package on PyPI (its bundled axe.min.js), not from a CDN.
The console's CSP would block the injected script, so these pages, and only these, bypass the CSP.
"""
import json
from importlib.resources import files
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journeys import AXE_PAGES, fill_why, menu_pages, preview_password_reset

AXE_SCRIPT = files("axe_playwright_python").joinpath("axe.min.js")
BLOCKING = ("serious", "critical")
FINDINGS: dict[str, list] = {}


def axe(page, where: str) -> list[dict]:
    """Run axe-core on the page; keep every finding for the artifacts, return the serious and critical ones."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    FINDINGS[where] = [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
                        "nodes": [n["target"] for n in v["nodes"]][:10]} for v in results["violations"]]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(json.dumps(FINDINGS, indent=1))
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def describe(where: str, violations: list[dict]) -> str:
    lines = [f"{where}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"      {node['target']} {node['html'][:120]!r} {summary[:220]}")
    return "\n".join(lines)


def assert_accessible(page, where: str) -> None:
    violations = axe(page, where)
    assert not violations, describe(where, violations)


def test_axe_finds_a_known_violation(new_page):
    """The check itself works: grey-on-white text and an unlabelled field are caught."""
    page = new_page(as_user="agent@example.com", bypass_csp=True)
    page.goto("/admin/")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<p style="color:#bbb;background:#fff">faint</p><input type="text">');
    }""")
    rules = {v["id"] for v in axe(page, "self-check")}
    assert {"color-contrast", "label"} <= rules


def test_login_page(new_page):
    page = new_page(bypass_csp=True)
    page.goto("/login")
    assert_accessible(page, "/login")


@pytest.mark.parametrize("email", list(AXE_PAGES))
def test_key_pages_of_each_role(new_page, password_reset_run, email):
    page = new_page(as_user=email, bypass_csp=True)
    paths = list(AXE_PAGES[email])
    if email == "agent@example.com":
        paths += [password_reset_run["run"], password_reset_run["ticket"]]
    failures = []
    for path in paths:
        page.goto(path)
        if path == password_reset_run["run"]:  # the run page's next step: the task's reply and resolving
            expect(page.locator("#suggested-reply")).to_be_visible()
            expect(page.get_by_role("button", name="Resolve ticket T-900")).to_be_visible()
        violations = axe(page, f"{email} {path}")
        if violations:
            failures.append(describe(f"{email} {path}", violations))
    assert not failures, "\n".join(failures)


def test_every_page_in_the_menus_of_the_roles(new_page):
    """Every page a role's menu leads to, and every tab of the dashboard, beyond the key pages above.

    Each page is checked once, as the first role (agent, lead, product owner, developer, admin) whose menu
    leads to it: the key pages above already show each role's own variant of the pages they share, and axe
    over the same page again for every role above it made this the suite's slowest test.
    """
    checked = {path for paths in AXE_PAGES.values() for path in paths}
    failures = []
    for email in AXE_PAGES:
        page = new_page(as_user=email, bypass_csp=True)
        page.goto("/admin/")
        paths = menu_pages(page)
        assert "/admin/deflection/" in paths, (email, paths)  # every role reaches the dashboard: the menu was read
        page.goto("/admin/deflection/")
        tabs = page.locator("main .nav-tabs a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert len(tabs) >= 4, (email, tabs)
        for path in [p for p in dict.fromkeys(paths + tabs) if p not in checked]:
            checked.add(path)
            page.goto(path)
            violations = axe(page, f"{email} {path}")
            if violations:
                failures.append(describe(f"{email} {path}", violations))
        page.close()
    assert not failures, "\n".join(failures)


def test_the_approval_queue_with_a_run_waiting_and_the_lead_deciding(new_page):
    """The queue's details (what approving does, for which order, the amount) and the run page's decision form.

    Order 1003 (EUR 183.00, processing) is no other journey's: the request waits and is never decided.
    """
    agent = new_page(as_user="agent@example.com")
    agent.goto("/admin/tasks/refund_order/?order_id=1003")
    agent.get_by_label("Amount to refund").fill("150")
    fill_why(agent, "T-950", "Checking the approval queue's accessibility")
    agent.get_by_role("button", name="Preview").click()
    agent.get_by_role("button", name="Confirm and ask for approval").click()
    agent.wait_for_url("**/admin/runs/*")
    run_path = urlsplit(agent.url).path

    lead = new_page(as_user="lead@example.com", bypass_csp=True)
    lead.goto("/admin/approvals/")
    row = lead.locator("main table tbody tr").filter(has_text="T-950")
    expect(row.locator(".run-does")).to_contain_text("Approving it will change the refunded amount of Order 1003")
    expect(row).to_contain_text("EUR 150.00")
    assert_accessible(lead, "approval queue with a run waiting")
    lead.goto(run_path)
    expect(lead.get_by_label("Reason for approving")).to_be_visible()
    assert_accessible(lead, "pending run page with the decision form")


def test_the_developers_ticket_with_the_root_cause_form_and_a_closed_one(new_page):
    """An open escalation offers the developer their time and the 5 whys; a closed one shows its root cause."""
    dev = new_page(as_user="dev@example.com", bypass_csp=True)
    dev.goto("/admin/on-duty/")
    open_refs = set(dev.locator("main table a.ticket-ref").all_inner_texts())
    assert open_refs, "the demo has open escalations"
    dev.locator("main table a.ticket-ref").first.click()
    expect(dev.get_by_label("Why 5: the root cause")).to_be_visible()
    assert_accessible(dev, "escalated ticket with the root-cause form")
    dev.goto("/admin/tickets/?status=escalated&mine=0")
    refs = dev.locator("main table tbody a.ticket-ref").all_inner_texts()
    root_cause = dev.get_by_role("heading", name="Root cause", exact=True)
    for ref in [ref for ref in refs if ref not in open_refs][:20]:  # older ones were closed before the 5 whys
        dev.goto(f"/admin/tickets/view?ref={ref}")
        if root_cause.count():
            break
    expect(root_cause).to_be_visible()
    assert_accessible(dev, "closed escalation with its root cause")


def test_task_form_preview_and_the_fresh_run_page(new_page):
    page = new_page(as_user="agent@example.com", bypass_csp=True)
    page.goto("/admin/tasks/send_password_reset/?email=alice@example.com")
    assert_accessible(page, "task form")
    page.get_by_role("button", name="Preview").click()
    assert_accessible(page, "task form with errors")
    preview_password_reset(page, "T-902")
    assert_accessible(page, "preview")
    page.get_by_role("button", name="Confirm and run").click()
    page.wait_for_url("**/admin/runs/*")
    assert_accessible(page, "run page with its notice")


def test_not_allowed_page(new_page):
    page = new_page(as_user="agent@example.com", bypass_csp=True)
    page.goto("/admin/audit/")
    assert_accessible(page, "not allowed")


@pytest.mark.parametrize("path", ["/admin/no-such-page", "/admin/tickets/view?ref="])
def test_error_pages(new_page, path):
    page = new_page(as_user="agent@example.com", bypass_csp=True)
    response = page.goto(path)
    assert response.status in (400, 404)
    assert_accessible(page, f"error page {path}")
