"""The pieces every record page repeats (a table, its pager, a list's notices), built in Python.

Each was a Jinja macro; a macro call, and every `{{ }}` inside it, cost more Python calls than the
pieces are worth on pages that are about speed. What comes from the declarations (a table's header) is
built once per record; what comes from the request is escaped here.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from markupsafe import Markup, escape

from console.lookup.display import columns

PAGER = (("first", "« First"), ("prev", "‹ Previous"), ("next", "Next ›"), ("last", "Last »"))
_HEADERS: WeakKeyDictionary = WeakKeyDictionary()


def header(reflected, hide: str | None = None, select: str = "") -> str:
    """The table's <thead>, once per record, left-out column and selection column's heading."""
    by_shape = _HEADERS.setdefault(reflected, {})
    found = by_shape.get((hide, select))
    if found is None:
        cells = [f'<th scope="col"><span class="sr-only">{escape(select)}</span></th>'] if select else []
        for column in columns(reflected):
            if column.name != hide:
                right = ' class="text-right"' if column.numeric else ""
                cells.append(f'<th scope="col"{right}>{escape(column.label)}</th>')
        found = by_shape[(hide, select)] = f'<thead><tr>{"".join(cells)}</tr></thead>'
    return found


def table(reflected, rows: Markup, hide: str | None = None, table_id: str = "", select: str = "") -> Markup:
    """A record table around `rows` (console.lookup.rows); `select`: the heading of a selection column."""
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return Markup(f'<table class="table table-sm table-hover"{ident}>\n  {header(reflected, hide, select)}\n'
                  f'  <tbody>\n{rows}\n  </tbody>\n</table>')


def pager(links: dict | None) -> Markup:
    """The first/previous/next/last links (`links`: each URL or None), or nothing on a list of one page."""
    if not links or not (links["prev"] or links["next"]):
        return Markup("")
    items = []
    for key, label in PAGER:
        url = links[key]
        if url:
            items.append(f'<li class="page-item"><a class="page-link" href="{escape(url)}" rel="{key}">{label}</a></li>')
        else:
            items.append(f'<li class="page-item disabled"><span class="page-link">{label}</span></li>')
    return Markup(f'<nav aria-label="Pages"><ul class="pagination pagination-sm">{"".join(items)}</ul></nav>')


def messages(listing, error: str | None) -> Markup:
    """The error, the notices, the not-found line and the count of a list or search."""
    parts = [f'<div class="alert alert-danger" role="alert">{escape(error)}</div>'] if error else []
    if listing is not None:
        parts += [f'<div class="alert alert-info" role="status">{escape(notice)}</div>' for notice in listing.notices]
        if listing.not_found:
            parts.append(f'<div class="alert alert-warning" role="status" id="not-found">{escape(listing.not_found)}</div>')
        if listing.count:
            number, more = listing.count
            word = "match" if number == 1 and not more else "matches"
            parts.append(f'<p class="text-muted" role="status">{"More than " if more else ""}{number:,} {word}.</p>')
    return Markup("\n".join(parts))
