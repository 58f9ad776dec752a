"""The HTML allow-list for rendered runbooks, and a finder for what it would strip.

Rendering cleans with this allow-list; `runbooks check` uses `stripped_html` so that an
author learns about a removed `<script>` or `onclick` instead of it vanishing silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "kbd", "label", "li",
    "mark", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "class", "data-task"},
    "abbr": {"title"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class", "title"},
    "details": {"open"},
    "img": {"src", "alt", "title"},
    "input": {"type", "checked", "disabled", "class", "id", "data-check"},
    "li": {"class"},
    "ul": {"class"},
    "ol": {"start"},
    "td": {"class"},
    "th": {"class"},
    **{tag: {"id"} for tag in _HEADINGS},
}
_ID_VALUE = re.compile(r"^[a-z0-9][a-z0-9_:-]{0,150}$")
_CLASS_VALUE = re.compile(r"^[A-Za-z0-9_ -]{1,200}$")


def _cleaner(allowed_ids: frozenset[str]) -> nh3.Cleaner:
    def attribute_filter(_tag: str, attribute: str, value: str) -> str | None:
        # Only ids the renderer made survive, so raw HTML cannot clobber the page's elements.
        if attribute == "id":
            return value if value in allowed_ids and _ID_VALUE.match(value) else None
        if attribute == "class":
            return value if _CLASS_VALUE.match(value) else None
        return value

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=attribute_filter,
        # Every input is a checkbox, whatever the source says: no text or password fields.
        set_tag_attribute_values={"input": {"type": "checkbox"}},
        url_schemes=set(SAFE_URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_AUTHORED = _cleaner(frozenset())


def clean_html(html: str, allowed_ids: frozenset[str] = frozenset()) -> str:
    """Return the HTML with everything outside the allow-list removed; keep only `allowed_ids`."""
    return (_cleaner(allowed_ids) if allowed_ids else _AUTHORED).clean(html)


def url_is_safe(url: str) -> bool:
    """Tell whether a link target is relative or uses an allowed scheme."""
    compact = re.sub(r"[\x00-\x20\x7f]", "", url)
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", compact)
    return scheme is None or scheme.group(1).lower() in SAFE_URL_SCHEMES


@dataclass(frozen=True)
class StrippedHtml:
    """Something the sanitiser would remove, at a line offset inside the fragment (0-based)."""

    line_offset: int
    message: str


@dataclass(frozen=True)
class _StartTag:
    tag: str
    attrs: dict[str, str]
    line_offset: int


class _StartTagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[_StartTag] = []

    def handle_starttag(self, tag, attrs):
        self.found.append(_StartTag(tag, {name: value or "" for name, value in attrs}, self.getpos()[0] - 1))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def _start_tags(html: str) -> list[_StartTag]:
    collector = _StartTagCollector()
    collector.feed(html)
    collector.close()
    return collector.found


def stripped_html(fragment: str) -> list[StrippedHtml]:
    """List the tags and attributes of a raw HTML fragment that the sanitiser would strip."""
    before = _start_tags(fragment)
    after = _start_tags(clean_html(fragment))
    found: list[StrippedHtml] = []
    kept = 0
    for tag in before:
        if kept < len(after) and after[kept].tag == tag.tag:
            survivor = after[kept]
            kept += 1
            for name, value in tag.attrs.items():
                if survivor.attrs.get(name) == value:
                    continue
                if name in URL_ATTRIBUTES and value and not url_is_safe(value):
                    found.append(StrippedHtml(tag.line_offset, f"unsafe HTML: <{tag.tag} {name}> uses a "
                                                               f"forbidden URL scheme: {value[:60]!r}"))
                else:
                    found.append(StrippedHtml(tag.line_offset, f"unsafe HTML: attribute {name!r} on <{tag.tag}> "
                                                               "is not allowed and would be removed"))
        else:
            found.append(StrippedHtml(tag.line_offset, f"unsafe HTML: <{tag.tag}> is not allowed and would be removed"))
    return found
