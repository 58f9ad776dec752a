"""Turn a runbook body into safe HTML with task buttons, checklists and heading anchors.

Link syntax an author can use:

- `[Unlock the account](task:unlock_account?email={customer.email})`: a button that opens
  the task form. `{ticket}`, `{customer.email}` and `{order.id}` are filled from the ticket
  context; a parameter whose placeholder is unknown is left out so the form asks for it.
- `[Refunds](refund-request.md)`, `[Refunds](refund-request.md#approval)` or
  `[Refunds](runbook:refund-request#approval)`: a link to another runbook; `(#anchor)`
  links within the page.
- `- [ ] Check the order status`: a checkbox with a stable id, `<slug>:<item>`.

The renderer knows no Flask routes: the caller passes `task_url` and `runbook_url`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from console.runbooks.sanitize import clean_html, stripped_html, url_is_safe

PLACEHOLDERS = {
    "ticket": "the ticket reference",
    "customer.email": "the customer's email address",
    "order.id": "the order number",
}
# Runner fields a link may pre-fill besides the task's own parameters.
RESERVED_TASK_PARAMS = ("ticket", "reason")
TASK_BUTTON_CLASS = "btn btn-sm btn-primary task-link"
MISSING_TASK_CLASS = "btn btn-sm btn-outline-secondary disabled task-link task-link-missing"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ALIGN_CLASS = {"left": "text-left", "center": "text-center", "right": "text-right"}

TaskUrl = Callable[[str, dict[str, str]], str]
RunbookUrl = Callable[[str, "str | None"], str]


def default_task_url(name: str, params: dict[str, str]) -> str:
    """Build the task form URL the admin uses: `/admin/tasks/<name>/?param=...`."""
    query = f"?{urlencode(params)}" if params else ""
    return f"/admin/tasks/{quote(name, safe='')}/{query}"


def default_runbook_url(slug: str, anchor: str | None = None) -> str:
    """Build a runbook page URL: `/admin/runbooks/<slug>/#anchor`."""
    return f"/admin/runbooks/{quote(slug, safe='')}/" + (f"#{quote(anchor, safe='')}" if anchor else "")


@dataclass(frozen=True)
class TaskLink:
    """A task button in a runbook; `params` are the raw values with placeholders unfilled."""

    task: str
    params: tuple[tuple[str, str], ...]
    label: str
    line: int

    def placeholders(self) -> set[str]:
        return {name for _key, value in self.params for name in _PLACEHOLDER.findall(value)}


@dataclass(frozen=True)
class RunbookLink:
    """A link to a runbook (`slug` None means this page), optionally to one heading."""

    slug: str | None
    anchor: str | None
    target: str
    line: int


@dataclass(frozen=True)
class ChecklistItem:
    check_id: str
    text: str
    checked: bool
    line: int


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str
    line: int


@dataclass(frozen=True)
class UnsafeContent:
    line: int
    message: str


@dataclass
class RenderedRunbook:
    """The safe HTML of a runbook body plus what was found in it; lines are 1-based in the body."""

    html: str = ""
    headings: list[Heading] = field(default_factory=list)
    checklist: list[ChecklistItem] = field(default_factory=list)
    task_links: list[TaskLink] = field(default_factory=list)
    runbook_links: list[RunbookLink] = field(default_factory=list)
    unsafe: list[UnsafeContent] = field(default_factory=list)


CHECK_ID_TEXT_LENGTH = 48  # enough of the item to read the id; edits past it keep the ticks


def anchor_slug(text: str, length: int = 80) -> str:
    """Make a heading anchor: lower-case words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:length].rstrip("-") or "section"


def fill_task_params(link: TaskLink, context: Mapping[str, object] | None) -> dict[str, str]:
    """Fill a task link's placeholders from the ticket context, dropping what is unknown."""
    context = context or {}
    filled: dict[str, str] = {}
    for key, raw in link.params:
        unknown = False

        def substitute(match: re.Match) -> str:
            nonlocal unknown
            value = context.get(match.group(1).strip()) if match.group(1).strip() in PLACEHOLDERS else None
            if value is None or str(value) == "":
                unknown = True
                return ""
            return str(value)

        value = _PLACEHOLDER.sub(substitute, raw)
        if not unknown and value != "":
            filled[key] = value
    ticket = context.get("ticket")
    if ticket not in (None, "") and "ticket" not in filled:
        filled["ticket"] = str(ticket)
    return filled


def render_markdown(
    body: str,
    *,
    slug: str,
    context: Mapping[str, object] | None = None,
    task_url: TaskUrl = default_task_url,
    runbook_url: RunbookUrl = default_runbook_url,
    available_tasks: Collection[str] | None = None,
    ticked: Collection[str] | None = None,
) -> RenderedRunbook:
    """Render a runbook body to sanitised HTML for one ticket context.

    `available_tasks` (when given) are the tasks the reader may run; other task links become
    disabled labels. `ticked` (when given) are the checklist ids ticked on the ticket, and
    replace the boxes ticked in the source.
    """
    result = RenderedRunbook()
    env = {
        "slug": slug,
        "context": context or {},
        "task_url": task_url,
        "runbook_url": runbook_url,
        "available_tasks": available_tasks,
        "ticked": ticked,
        "result": result,
    }
    tokens = _MARKDOWN.parse(body, env)
    made_ids = frozenset(h.anchor for h in result.headings) | frozenset(c.check_id for c in result.checklist)
    result.html = clean_html(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env), made_ids)
    return result


def _split_task_target(target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    name, _, query = target[len("task:"):].partition("?")
    params = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    return name.strip(), params


def _split_runbook_target(href: str) -> tuple[str | None, str | None] | None:
    """Return (slug, anchor) when an href points at a runbook or a heading, else None."""
    if href.startswith("#"):
        return None, href[1:] or None
    if href.lower().startswith("runbook:"):
        slug, _, anchor = href[len("runbook:"):].partition("#")
        return slug.strip(), anchor or None
    path, _, anchor = href.partition("#")
    if re.match(r"^(?:\./)?[^/:?#]+\.md$", path):
        return path.removeprefix("./")[:-3], anchor or None
    return None


def _inline_text(children: list[Token]) -> str:
    return "".join(child.content for child in children if child.type in ("text", "code_inline")).strip()


def _link_label(children: list[Token], start: int) -> str:
    label: list[Token] = []
    for child in children[start + 1:]:
        if child.type == "link_close":
            break
        label.append(child)
    return _inline_text(label)


def _rewrite_link(children: list[Token], index: int, line: int, env: dict) -> None:
    token = children[index]
    result: RenderedRunbook = env["result"]
    href = token.attrGet("href") or ""
    if href.lower().startswith("task:"):
        name, params = _split_task_target(href)
        link = TaskLink(task=name, params=params, label=_link_label(children, index), line=line)
        result.task_links.append(link)
        available = env["available_tasks"]
        if available is not None and name not in available:
            _make_missing_task(children, index)
            return
        token.attrSet("href", env["task_url"](name, fill_task_params(link, env["context"])))
        token.attrSet("class", TASK_BUTTON_CLASS)
        token.attrSet("data-task", name)
        return
    target = _split_runbook_target(href)
    if target is not None:
        slug, anchor = target
        result.runbook_links.append(RunbookLink(slug=slug, anchor=anchor, target=href, line=line))
        if slug is not None:
            token.attrSet("href", env["runbook_url"](slug, anchor))
        return
    if not url_is_safe(href):
        result.unsafe.append(UnsafeContent(line, f"unsafe link: the URL scheme of {href[:60]!r} is not allowed"))
        del token.attrs["href"]


def _make_missing_task(children: list[Token], index: int) -> None:
    opening = children[index]
    opening.tag = "span"
    opening.attrs = {"class": MISSING_TASK_CLASS, "title": "You cannot run this task here"}
    for child in children[index + 1:]:
        if child.type == "link_close":
            child.tag = "span"
            break


def _checkbox_token(inline: Token, env: dict, used_ids: set[str], line: int) -> Token:
    text = _inline_text(inline.children or [])
    base = f"{env['slug']}:{anchor_slug(text, CHECK_ID_TEXT_LENGTH)}"
    check_id, n = base, 1
    while check_id in used_ids:
        n += 1
        check_id = f"{base}-{n}"
    used_ids.add(check_id)
    if env["ticked"] is not None:
        checked = check_id in env["ticked"]
    else:
        checked = "checked" in (inline.children[1].content if len(inline.children) > 1 else "")
    env["result"].checklist.append(ChecklistItem(check_id=check_id, text=text, checked=checked, line=line))
    checkbox = Token("runbook_check", "input", 0)
    checkbox.meta = {"check_id": check_id, "checked": checked}
    return checkbox


def _collect(state) -> None:
    """Rewrite links, checkboxes and table alignment, and record what the body contains."""
    env = state.env
    result: RenderedRunbook = env["result"]
    used_check_ids: set[str] = set()
    tokens = state.tokens
    for i, token in enumerate(tokens):
        first_line = token.map[0] + 1 if token.map else 1
        if token.type in ("th_open", "td_open"):
            align = re.search(r"text-align:\s*(\w+)", token.attrGet("style") or "")
            token.attrs.pop("style", None)
            if align and align.group(1) in _ALIGN_CLASS:
                token.attrSet("class", _ALIGN_CLASS[align.group(1)])
        elif token.type == "heading_open":
            result.headings.append(Heading(int(token.tag[1]), str(token.attrGet("id") or ""),
                                           _inline_text(tokens[i + 1].children or []), first_line))
        elif token.type == "html_block":
            for found in stripped_html(token.content):
                result.unsafe.append(UnsafeContent(first_line + found.line_offset, found.message))
        elif token.type == "inline" and token.children:
            # tasklists marks its items' list_item_open; raw HTML cannot, so this finds only its boxes.
            is_check = i >= 2 and "task-list-item" in str(tokens[i - 2].attrGet("class") or "")
            line = first_line
            for index, child in enumerate(token.children):
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif is_check and index == 1 and child.type == "html_inline":
                    token.children[index] = _checkbox_token(token, env, used_check_ids, line)
                elif child.type == "html_inline":
                    for found in stripped_html(child.content):
                        result.unsafe.append(UnsafeContent(line, found.message))
                elif child.type == "link_open" and child.attrGet("class") != "header-anchor":
                    _rewrite_link(token.children, index, line, env)
                elif child.type == "image" and not url_is_safe(child.attrGet("src") or ""):
                    result.unsafe.append(UnsafeContent(line, "unsafe image: the URL scheme of "
                                                             f"{str(child.attrGet('src'))[:60]!r} is not allowed"))
                    child.attrs.pop("src", None)


def _render_check(_renderer, tokens, idx, _options, _env) -> str:
    meta = tokens[idx].meta
    checked = " checked" if meta["checked"] else ""
    check_id = escapeHtml(meta["check_id"])
    return (f'<input type="checkbox" class="task-list-item-checkbox runbook-check" id="{check_id}" '
            f'data-check="{check_id}"{checked}>')


def _normalize_link(url: str) -> str:
    # Task and runbook targets are parsed by `_collect`; percent-encoding would hide `{placeholders}`.
    if url.lower().startswith(("task:", "runbook:")):
        return url
    return _DEFAULT_NORMALIZE(url)


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    tasklists_plugin(md, enabled=True, label=True)
    anchors_plugin(md, min_level=1, max_level=4, slug_func=anchor_slug, permalink=True, permalinkSymbol="¶")
    # Accept every link so `_collect` can report unsafe ones; it removes their href, and nh3 would too.
    md.validateLink = lambda _url: True
    md.normalizeLink = _normalize_link
    md.core.ruler.push("runbook_collect", _collect)
    md.add_render_rule("runbook_check", _render_check)
    return md


_DEFAULT_NORMALIZE = MarkdownIt().normalizeLink
_MARKDOWN = _build_markdown()
