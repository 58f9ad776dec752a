"""Steps that several journeys share: reading a before/after table, filling a task form."""
from __future__ import annotations

import re


def change(page, table: str, column: str) -> tuple[str, str]:
    """(before, after) of `column` in the before/after table of `table` on a preview or run page.

    The tables name rows and columns in words ("Failed login count"); the stored names are in data attributes.
    """
    row = page.locator(f'table.diff-table[data-table="{table}"] tbody tr:has(th[data-column="{column}"])')
    cells = row.locator("td")
    return cells.nth(0).inner_text().strip(), cells.nth(1).inner_text().strip()


def run_status(page) -> str:
    """The status badge in a run page's heading."""
    return page.locator("h1 .badge").inner_text().strip()


def fill_why(page, ticket: str, reason: str) -> None:
    """Fill the ticket and the reason of a task form."""
    page.get_by_label("Ticket", exact=True).fill(ticket)
    page.get_by_label("Reason").fill(reason)


# The pages each role works in, by role's demo login. Pages that need a run of their own (the preview, the run
# page, the ticket it was run on) come from the `password_reset_run` fixture.
KEY_PAGES = {
    "agent@example.com": [
        "/admin/", "/admin/tasks/", "/admin/tasks/unlock_account/?email=locked@example.com", "/admin/runs/",
        "/admin/tickets/", "/admin/runbooks/", "/admin/runbooks/?q=can%27t+log+in", "/admin/runbooks/cannot-log-in/",
        "/admin/runbooks/refund-request/", "/admin/records/customers/", "/admin/records/customers/?q=alice@example.com",
        "/admin/records/customers/3", "/admin/records/orders/", "/admin/records/orders/?q=1004", "/admin/records/orders/1004", "/admin/deflection/",
    ],
    "lead@example.com": ["/admin/", "/admin/approvals/", "/admin/audit/", "/admin/runs/?status=succeeded"],
    "po@example.com": ["/admin/", "/admin/deflection/", "/admin/runbooks/"],
    "dev@example.com": ["/admin/", "/admin/on-duty/", "/admin/audit/", "/admin/tickets/", "/admin/api/"],
    "admin@example.com": ["/admin/", "/admin/staff_users/", "/admin/api_tokens/"],
}


# What axe-core checks: fewer pages than KEY_PAGES (it takes a second or more a page), one of each kind.
AXE_PAGES = {
    "agent@example.com": ["/admin/", "/admin/tasks/", "/admin/tickets/?mine=0", "/admin/runbooks/?q=can%27t+log+in", "/admin/runbooks/cannot-log-in/",
                          "/admin/records/customers/?q=alice@example.com", "/admin/records/customers/3", "/admin/records/orders/1004"],
    "lead@example.com": ["/admin/", "/admin/approvals/", "/admin/audit/"],
    "po@example.com": ["/admin/", "/admin/deflection/", "/admin/deflection/?section=build",
                       "/admin/deflection/?section=tools", "/admin/deflection/?section=team"],
    "dev@example.com": ["/admin/", "/admin/on-duty/", "/admin/api/"],
    "admin@example.com": ["/admin/", "/admin/staff_users/", "/admin/staff_users/new/", "/admin/api_tokens/",
                          "/admin/api_tokens/issue/"],
}


def menu_pages(page) -> list[str]:
    """The pages the top bar's menu leads to on the open page, in its order, each once (no dropdown toggles)."""
    hrefs = page.locator("nav.navbar a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys(h for h in hrefs if h and h.startswith("/admin/")))


def preview_password_reset(page, ticket: str) -> None:
    """Open the password reset form for alice and preview it."""
    page.goto("/admin/tasks/send_password_reset/?email=alice@example.com")
    fill_why(page, ticket, "Customer forgot the password")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Confirm and run").wait_for()
