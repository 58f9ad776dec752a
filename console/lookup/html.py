"""The pieces every record page repeats (a table, its pager, a list's notices), built in Python.

Each was a Jinja macro; a macro call, and every `{{ }}` inside it, cost more Python calls than the
pieces are worth on pages that are about speed. What comes from the declarations (a table's header) is
built once per record; what comes from the request is escaped here (formatting.html_text).
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from markupsafe import Markup

from console.formatting import html_text, local_time
from console.lookup.display import columns

PAGER = (("first", "« First"), ("prev", "‹ Previous"), ("next", "Next ›"), ("last", "Last »"))
_HEADERS: WeakKeyDictionary = WeakKeyDictionary()


def header(reflected, hide: str | None = None, select: str = "") -> str:
    """The table's <thead>, once per record, left-out column and selection column's heading."""
    by_shape = _HEADERS.setdefault(reflected, {})
    found = by_shape.get((hide, select))
    if found is None:
        cells = [f'<th scope="col"><span class="sr-only">{html_text(select)}</span></th>'] if select else []
        for column in columns(reflected):
            if column.name != hide:
                right = ' class="text-right"' if column.numeric else ""
                cells.append(f'<th scope="col"{right}>{html_text(column.label)}</th>')
        found = by_shape[(hide, select)] = f'<thead><tr>{"".join(cells)}</tr></thead>'
    return found


def table(reflected, rows: Markup, hide: str | None = None, table_id: str = "", select: str = "") -> Markup:
    """A record table around `rows` (console.lookup.rows); `select`: the heading of a selection column."""
    ident = f' id="{html_text(table_id)}"' if table_id else ""
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
            items.append(f'<li class="page-item"><a class="page-link" href="{html_text(url)}" rel="{key}">{label}</a></li>')
        else:
            items.append(f'<li class="page-item disabled"><span class="page-link">{label}</span></li>')
    return Markup(f'<nav aria-label="Pages"><ul class="pagination pagination-sm">{"".join(items)}</ul></nav>')


def messages(listing, error: str | None) -> Markup:
    """The error, the notices, the not-found line and the count of a list or search."""
    parts = [f'<div class="alert alert-danger" role="alert">{html_text(error)}</div>'] if error else []
    if listing is not None:
        parts += [f'<div class="alert alert-info" role="status">{html_text(notice)}</div>' for notice in listing.notices]
        if listing.not_found:
            parts.append(f'<div class="alert alert-warning" role="status" id="not-found">{html_text(listing.not_found)}</div>')
        if listing.count:
            number, more = listing.count
            word = "match" if number == 1 and not more else "matches"
            parts.append(f'<p class="text-muted" role="status">{"More than " if more else ""}{number:,} {word}.</p>')
    return Markup("\n".join(parts))


# The record page's sections: HTML as str, joined and marked safe once by the page (a Markup is four calls).

def fields_table(fields: list[tuple]) -> str:
    """The record's own columns: (label, HTML, masked?) each."""
    rows = "".join(f'<tr><th scope="row">{html_text(label)}</th><td{MASKED if masked else ""}>{value}</td></tr>\n'
                   for label, value, masked in fields)
    return f'<table class="table table-sm kv" id="record-fields">\n{rows}</table>'


MASKED = ' class="masked"'


def offers_section(offers: list, noun: str) -> str:
    """The tasks offered on this record (console.lookup.offers' TaskOffer), each a button to its form."""
    if not offers:
        return ""
    applying = [offer for offer in offers if offer.url]
    buttons = "".join(f'<a class="btn btn-outline-primary btn-sm task-button mr-1" href="{html_text(offer.url)}" '
                      f'title="{html_text(offer.risk.capitalize())} risk">{html_text(offer.title)}</a>'
                      for offer in applying) or '<span class="text-muted small">No task applies to it as it is now.</span>'
    skipped = [offer for offer in offers if not offer.url]
    if skipped:  # a task that does not apply to the record as it is now says why, instead of a button
        reasons = "; ".join(f"{html_text(offer.title)} ({html_text(offer.reason)})" for offer in skipped)
        buttons += f'\n  <p class="small text-muted mb-0 mt-1" id="offers-not-applying">Not offered here: {reasons}.</p>'
    return (f'<section class="card mb-3" aria-labelledby="offers-title"><div class="card-body py-2">\n'
            f'  <h2 class="h6" id="offers-title">Tasks for this {html_text(noun.lower())}</h2>\n'
            f'  {buttons}\n</div></section>')


def related_section(name: str, heading: str, shown: int, table_html: Markup, more: str | None, noun: str) -> str:
    """One relation's rows (`shown` of them, in `table_html`), with a link to the rest when there are `more`."""
    title = f"{html_text(heading)}{f' (the {shown} most recent)' if more else ''}"
    if shown:
        body = str(table_html)
        if more:
            body += f'\n<a href="{html_text(more)}">All {html_text(heading.lower())} of this {html_text(noun.lower())} ›</a>'
    else:
        body = f'<p class="text-muted">No {html_text(heading.lower())}.</p>'
    ident = html_text(f"related-{name}")
    return (f'<section class="mb-4" aria-labelledby="{ident}">\n  <h2 class="h5" id="{ident}">{title}</h2>\n'
            f'{body}\n</section>')


def runs_section(runs: list | None, run_url) -> str:
    """The latest task runs on the record's subject (None: no task is offered on it)."""
    if runs is None:
        return ""
    if not runs:
        body = '<p class="text-muted">No task runs yet.</p>'
    else:
        rows = []
        for run in runs:
            link = run_url(run.id)
            number = f'<a href="{html_text(link)}">{run.id}</a>' if link else f"{run.id}"
            rows.append(f"<tr><td>{number}</td><td>{html_text(run.task)}</td><td>{html_text(run.status.replace('_', ' '))}</td>"
                        f"<td>{html_text(run.ticket or '')}</td><td>{html_text(run.actor)}</td>"
                        f"<td>{local_time(run.created_at)}</td></tr>")
        body = ('<table class="table table-sm">\n<thead><tr><th scope="col">Run</th><th scope="col">Task</th>'
                '<th scope="col">Status</th><th scope="col">Ticket</th><th scope="col">By</th>'
                f'<th scope="col">When</th></tr></thead>\n<tbody>\n{chr(10).join(rows)}\n</tbody>\n</table>')
    return (f'<section class="mb-4" aria-labelledby="runs-title">\n  <h2 class="h5" id="runs-title">Task runs</h2>\n'
            f'{body}\n</section>')


def tickets_section(tickets: list | None, noun: str, ticket_link) -> str:
    """The latest tickets about the record's customer (None: the record has no customer subject)."""
    if tickets is None:
        return ""
    if not tickets:
        body = '<p class="text-muted">No tickets.</p>'
    else:
        rows = "\n".join(
            f"<tr><td>{ticket_link(t.ref) if ticket_link else html_text(t.ref)}</td>"
            f"<td>{html_text((t.outcome or '').replace('_', ' '))}</td><td>{html_text(t.category or '')}</td>"
            f"<td>{local_time(t.created_at)}</td></tr>" for t in tickets)
        body = ('<table class="table table-sm">\n<thead><tr><th scope="col">Ticket</th><th scope="col">Outcome</th>'
                '<th scope="col">Category</th><th scope="col">Opened</th></tr></thead>\n'
                f'<tbody>\n{rows}\n</tbody>\n</table>')
    return (f'<section class="mb-4" aria-labelledby="tickets-title">\n  <h2 class="h5" id="tickets-title">'
            f'Tickets about this {html_text(noun.lower())}</h2>\n{body}\n</section>')
