"""The pieces every record page repeats (a table, its pager, a list's notices), built in Python.

Each was a Jinja macro; a macro call, and every `{{ }}` inside it, cost more Python calls than the
pieces are worth on pages that are about speed. What comes from the declarations (a table's header) is
built once per record; what comes from the request is escaped here.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from markupsafe import Markup, escape

from console.formatting import local_time
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


# The record page's sections ---------------------------------------------------------------------------

def fields_table(fields: list[tuple]) -> Markup:
    """The record's own columns: (label, HTML, masked?) each."""
    rows = "".join(f'<tr><th scope="row">{escape(label)}</th><td{MASKED if masked else ""}>{value}</td></tr>\n'
                   for label, value, masked in fields)
    return Markup(f'<table class="table table-sm kv" id="record-fields">\n{rows}</table>')


MASKED = ' class="masked"'


def offers_section(offers: list, noun: str) -> Markup:
    """The tasks offered on this record (console.lookup.offers' TaskOffer), each a button to its form."""
    if not offers:
        return Markup("")
    applying = [offer for offer in offers if offer.url]
    buttons = "".join(f'<a class="btn btn-outline-primary btn-sm task-button mr-1" href="{escape(offer.url)}" '
                      f'title="{escape(offer.risk.capitalize())} risk">{escape(offer.title)}</a>'
                      for offer in applying) or '<span class="text-muted small">No task applies to it as it is now.</span>'
    skipped = [offer for offer in offers if not offer.url]
    if skipped:  # a task that does not apply to the record as it is now says why, instead of a button
        reasons = "; ".join(f"{escape(offer.title)} ({escape(offer.reason)})" for offer in skipped)
        buttons += f'\n  <p class="small text-muted mb-0 mt-1" id="offers-not-applying">Not offered here: {reasons}.</p>'
    return Markup(f'<section class="card mb-3" aria-labelledby="offers-title"><div class="card-body py-2">\n'
                  f'  <h2 class="h6" id="offers-title">Tasks for this {escape(noun.lower())}</h2>\n'
                  f'  {buttons}\n</div></section>')


def related_section(name: str, heading: str, shown: int, table_html: Markup, more: str | None, noun: str) -> Markup:
    """One relation's rows (`shown` of them, in `table_html`), with a link to the rest when there are `more`."""
    title = f"{escape(heading)}{f' (the {shown} most recent)' if more else ''}"
    if shown:
        body = str(table_html)
        if more:
            body += f'\n<a href="{escape(more)}">All {escape(heading.lower())} of this {escape(noun.lower())} ›</a>'
    else:
        body = f'<p class="text-muted">No {escape(heading.lower())}.</p>'
    ident = escape(f"related-{name}")
    return Markup(f'<section class="mb-4" aria-labelledby="{ident}">\n  <h2 class="h5" id="{ident}">{title}</h2>\n'
                  f'{body}\n</section>')


def runs_section(runs: list | None, run_url) -> Markup:
    """The latest task runs on the record's subject (None: no task is offered on it)."""
    if runs is None:
        return Markup("")
    if not runs:
        body = '<p class="text-muted">No task runs yet.</p>'
    else:
        rows = []
        for run in runs:
            link = run_url(run.id)
            number = f'<a href="{escape(link)}">{run.id}</a>' if link else f"{run.id}"
            rows.append(f"<tr><td>{number}</td><td>{escape(run.task)}</td><td>{escape(run.status.replace('_', ' '))}</td>"
                        f"<td>{escape(run.ticket or '')}</td><td>{escape(run.actor)}</td>"
                        f"<td>{local_time(run.created_at)}</td></tr>")
        body = ('<table class="table table-sm">\n<thead><tr><th scope="col">Run</th><th scope="col">Task</th>'
                '<th scope="col">Status</th><th scope="col">Ticket</th><th scope="col">By</th>'
                f'<th scope="col">When</th></tr></thead>\n<tbody>\n{chr(10).join(rows)}\n</tbody>\n</table>')
    return Markup(f'<section class="mb-4" aria-labelledby="runs-title">\n  <h2 class="h5" id="runs-title">Task runs</h2>\n'
                  f'{body}\n</section>')


def tickets_section(tickets: list | None, noun: str, ticket_link) -> Markup:
    """The latest tickets about the record's customer (None: the record has no customer subject)."""
    if tickets is None:
        return Markup("")
    if not tickets:
        body = '<p class="text-muted">No tickets.</p>'
    else:
        rows = "\n".join(
            f"<tr><td>{ticket_link(t.ref) if ticket_link else escape(t.ref)}</td>"
            f"<td>{escape((t.outcome or '').replace('_', ' '))}</td><td>{escape(t.category or '')}</td>"
            f"<td>{local_time(t.created_at)}</td></tr>" for t in tickets)
        body = ('<table class="table table-sm">\n<thead><tr><th scope="col">Ticket</th><th scope="col">Outcome</th>'
                '<th scope="col">Category</th><th scope="col">Opened</th></tr></thead>\n'
                f'<tbody>\n{rows}\n</tbody>\n</table>')
    return Markup(f'<section class="mb-4" aria-labelledby="tickets-title">\n  <h2 class="h5" id="tickets-title">'
                  f'Tickets about this {escape(noun.lower())}</h2>\n{body}\n</section>')
