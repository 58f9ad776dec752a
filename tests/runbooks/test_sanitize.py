"""The HTML allow-list and the report of what it strips."""
from __future__ import annotations

import pytest

from console.runbooks.sanitize import clean_html, stripped_html, url_is_safe


@pytest.mark.parametrize("fragment, expected", [
    ("<script>alert(1)</script>", "<script> is not allowed"),
    ('<img src="x" onerror="alert(1)">', "attribute 'onerror' on <img>"),
    ('<a href="javascript:alert(1)">x</a>', "forbidden URL scheme"),
    ('<p style="color:red">x</p>', "attribute 'style' on <p>"),
    ('<iframe src="https://example.com"></iframe>', "<iframe> is not allowed"),
    ('<input type="text">', "attribute 'type' on <input>"),
])
def test_stripped_html_names_what_goes(fragment, expected):
    [found] = stripped_html(fragment)

    assert expected in found.message


def test_allowed_markup_reports_nothing():
    fragment = ('<details open><summary>More</summary><kbd>Esc</kbd> <a href="https://example.com" '
                'title="t">x</a><input type="checkbox" checked disabled></details>')

    assert stripped_html(fragment) == []


def test_line_offsets_count_from_the_fragment_start():
    assert [found.line_offset for found in stripped_html("<p>\nok\n<b onclick=x>")] == [2]


@pytest.mark.parametrize("url, safe", [
    ("https://example.com", True), ("/admin/x", True), ("#top", True), ("mailto:a@example.com", True),
    ("javascript:alert(1)", False), ("JAVASCRIPT:alert(1)", False), ("java\tscript:alert(1)", False),
    (" javascript:alert(1)", False), ("data:text/html,x", False), ("vbscript:x", False),
])
def test_url_is_safe(url, safe):
    assert url_is_safe(url) is safe


def test_clean_html_drops_script_content_and_adds_rel():
    assert clean_html('<p>a<script>alert(1)</script></p><a href="/x">y</a>') == \
        '<p>a</p><a href="/x" rel="noopener noreferrer">y</a>'
