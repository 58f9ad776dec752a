"""axe-core over the key pages of every role: no serious or critical violation, contrast included.

axe-core comes from the `axe-playwright-python` package on PyPI (its bundled axe.min.js), not from a CDN.
The console's CSP would block the injected script, so these pages, and only these, bypass the CSP.
"""
import json
from importlib.resources import files

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journeys import AXE_PAGES, preview_password_reset

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
        violations = axe(page, f"{email} {path}")
        if violations:
            failures.append(describe(f"{email} {path}", violations))
    assert not failures, "\n".join(failures)


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
