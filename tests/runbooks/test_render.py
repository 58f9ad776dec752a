"""Rendering runbook bodies: task buttons, placeholders, checklists, anchors and XSS."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from console.runbooks.render import TaskLink, default_task_url, fill_task_params, render_markdown

CONTEXT = {"ticket": "T-7", "customer.email": "locked@example.com", "order.id": 1003}


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def links(html: str) -> list[dict]:
    return [attrs for tag, attrs in elements(html) if tag == "a" and "header-anchor" not in (attrs.get("class") or "")]


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_task_link_becomes_a_button_with_filled_params_and_the_ticket():
    page = render_markdown("[Unlock the account](task:unlock_account?email={customer.email})",
                           slug="cannot-log-in", context=CONTEXT)

    [button] = links(page.html)
    assert "btn" in button["class"].split() and button["data-task"] == "unlock_account"
    assert urlsplit(button["href"]).path == "/admin/tasks/unlock_account/"
    assert query_of(button["href"]) == {"email": ["locked@example.com"], "ticket": ["T-7"]}
    assert page.task_links == [TaskLink("unlock_account", (("email", "{customer.email}"),), "Unlock the account", 1)]


def test_unknown_placeholders_are_dropped_and_literals_kept():
    page = render_markdown("[Refund](task:refund_order?order_id={order.id}&amount_cents=2600&reason=Damaged+item)",
                           slug="refund", context={})

    [button] = links(page.html)
    assert query_of(button["href"]) == {"amount_cents": ["2600"], "reason": ["Damaged item"]}


def test_task_url_callable_decides_the_url():
    calls = []

    def task_url(name, params):
        calls.append((name, params))
        return f"/somewhere/{name}"

    page = render_markdown("[Fix](task:fix_stuck_order?order_id={order.id})", slug="s", context=CONTEXT,
                           task_url=task_url)

    assert calls == [("fix_stuck_order", {"order_id": "1003", "ticket": "T-7"})]
    assert links(page.html)[0]["href"] == "/somewhere/fix_stuck_order"


@pytest.mark.parametrize("hostile", ['"><script>alert(1)</script>', "' onmouseover='alert(1)", "javascript:alert(1)"])
def test_placeholder_values_cannot_inject_markup(hostile):
    page = render_markdown("[Unlock](task:unlock_account?email={customer.email})", slug="s",
                           context={"customer.email": hostile, "ticket": hostile})

    assert "<script" not in page.html and "onmouseover" not in page.html.replace("onmouseover%3D", "")
    [button] = links(page.html)
    assert set(button) == {"href", "class", "data-task", "rel"}
    assert query_of(button["href"]) == {"email": [hostile], "ticket": [hostile]}
    assert button["href"].startswith("/admin/tasks/unlock_account/?")


def test_fill_task_params_needs_every_placeholder_of_a_value():
    link = TaskLink("change_email", (("email", "{customer.email}"), ("new_email", "{customer.email}.{nope}")), "x", 1)

    assert fill_task_params(link, {"customer.email": "a@example.com", "nope": "x"}) == {"email": "a@example.com"}


def test_unavailable_task_renders_as_a_disabled_label_not_a_link():
    page = render_markdown("[Gone](task:retired_task?order_id=1)", slug="s", available_tasks={"unlock_account"})

    assert links(page.html) == []
    assert 'class="btn btn-sm btn-outline-secondary disabled task-link task-link-missing"' in page.html
    assert ">Gone</span>" in page.html


def test_default_task_url_encodes_name_and_params():
    assert default_task_url("refund_order", {"order_id": "1004", "reason": "a&b"}) == \
        "/admin/tasks/refund_order/?order_id=1004&reason=a%26b"
    assert default_task_url("x/../y", {}) == "/admin/tasks/x%2F..%2Fy/"


def test_checklist_items_get_stable_ids_and_boxes():
    body = "- [ ] Check the status\n- [x] Ask for the email\n- [ ] Check the status\n- not a check\n"
    page = render_markdown(body, slug="cannot-log-in")

    ids = [item.check_id for item in page.checklist]
    assert ids == ["cannot-log-in:check-the-status", "cannot-log-in:ask-for-the-email",
                   "cannot-log-in:check-the-status-2"]
    boxes = [attrs for tag, attrs in elements(page.html) if tag == "input"]
    assert [box["data-check"] for box in boxes] == ids
    assert [box["id"] for box in boxes] == ids
    assert ["checked" in box for box in boxes] == [False, True, False]
    assert all(box["type"] == "checkbox" and "disabled" not in box for box in boxes)
    # Adding an item above leaves the other items' ids alone, so ticks stay on the right item.
    again = render_markdown("- [ ] New first step\n" + body, slug="cannot-log-in")
    assert [item.check_id for item in again.checklist][1:] == ids


def test_headings_get_anchors_and_unique_ids():
    page = render_markdown("# What to check first\n\n## Decide\n\n## Decide\n\n#### Deep: one/two\n", slug="s")

    assert [(h.level, h.anchor) for h in page.headings] == [
        (1, "what-to-check-first"), (2, "decide"), (2, "decide-1"), (4, "deep-one-two")]
    assert '<h2 id="decide">' in page.html
    assert 'href="#decide"' in page.html


def test_internal_links_resolve_to_runbook_urls():
    body = "[a](refund-request.md) [b](refund-request.md#which-amount) [c](runbook:cancel-order#decide) [d](#top)"
    page = render_markdown(body, slug="s", runbook_url=lambda slug, anchor: f"/rb/{slug}" + (f"#{anchor}" if anchor else ""))

    assert [link["href"] for link in links(page.html)] == [
        "/rb/refund-request", "/rb/refund-request#which-amount", "/rb/cancel-order#decide", "#top"]
    assert [(link.slug, link.anchor) for link in page.runbook_links] == [
        ("refund-request", None), ("refund-request", "which-amount"), ("cancel-order", "decide"), (None, "top")]


def test_tables_keep_alignment_without_style():
    page = render_markdown("| a | b |\n|:-:|--:|\n| 1 | 2 |\n", slug="s")

    assert "style=" not in page.html
    assert '<th class="text-center">a</th>' in page.html and '<td class="text-right">2</td>' in page.html


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "Hello <script>alert(1)</script> world",
    '<img src="x" onerror="alert(1)">',
    "<iframe src=\"https://evil.example\"></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<div style="background:url(javascript:alert(1))" onclick="alert(1)">x</div>',
    '<svg onload="alert(1)"></svg>',
    '<form action="https://evil.example"><input type="password" name="p"></form>',
    '<h2 id="csrf-token">clobber</h2>',
])
def test_unsafe_markup_never_reaches_the_html(source):
    html = render_markdown(source, slug="s").html

    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<svg" not in lowered and "<form" not in lowered
    for tag, attrs in elements(html):
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").lower()
            assert not re.match(r"\s*(javascript|data|vbscript):", value), (tag, attrs)
        if tag == "input":
            assert attrs.get("type") == "checkbox"
        assert attrs.get("id") != "csrf-token"


def test_unsafe_content_is_reported_with_its_line():
    page = render_markdown("Fine.\n\n[x](javascript:alert(1))\n\n<script>x</script>\n", slug="s")

    assert [(item.line, item.message.split(":")[0]) for item in page.unsafe] == [(3, "unsafe link"), (5, "unsafe HTML")]


def test_safe_html_and_links_survive():
    body = "<kbd>Ctrl</kbd> [docs](https://example.com/help) [mail](mailto:help@example.com) [rel](/admin/lookup/)"
    html = render_markdown(body, slug="s").html

    assert "<kbd>Ctrl</kbd>" in html
    assert [link["href"] for link in links(html)] == [
        "https://example.com/help", "mailto:help@example.com", "/admin/lookup/"]
