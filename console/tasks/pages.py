"""What the task pages share: their base view, the catalog's search and grouping, and links out.

views_form.py (catalog, form, preview, confirm) and views_runs.py (run pages, history, approvals)
import this module; views.py registers both. What the API and the CLI show too lives in presenting.py.
"""
from __future__ import annotations

from itertools import groupby

from flask import url_for
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from console.admin.base import ConsoleView, deny
from console.deflection.ticket_refs import helpdesk_url


class TaskPagesView(ConsoleView):
    """A tasks page; a role without access sees the console's "not allowed" page (403)."""

    def forbid(self):
        return deny(self)


def search_tasks(specs: list, query: str) -> list:
    """Keep the tasks whose name, title, category or description holds every word of the query."""
    words = [word for word in (query or "").lower().split() if word]
    if not words:
        return list(specs)

    def haystack(spec) -> str:
        return " ".join((spec.name, spec.title, spec.category, spec.description or "")).lower()

    return [spec for spec in specs if all(word in haystack(spec) for word in words)]


def by_category(specs: list) -> list[tuple[str, list]]:
    ordered = sorted(specs, key=lambda spec: (spec.category.lower(), spec.title.lower()))
    return [(category, list(group)) for category, group in groupby(ordered, key=lambda spec: spec.category)]


def ticket_link(ref: str) -> Markup:
    """The ticket reference, linked to the helpdesk when HELPDESK_URL_TEMPLATE is set."""
    href = helpdesk_url(ref)
    if href:
        return Markup('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>').format(href, ref)
    return escape(ref or "")


def console_ticket_url(ref: str) -> str | None:
    """The console's own page of the ticket, when the deflection domain offers one."""
    if not ref:
        return None
    try:
        return url_for("tickets.ticket_page", ref=ref)
    except BuildError:
        return None


def audit_entry_url(seq: int) -> str | None:
    """Where the audit view shows entry `seq`, when the audit domain offers such a page."""
    for endpoint, args in (("audit.entry", {"seq": seq}), ("audit.details_view", {"id": seq})):
        try:
            return url_for(endpoint, **args)
        except BuildError:
            continue
    return None
