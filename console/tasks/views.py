"""The task pages: the catalog's search and grouping, change tables, links, and the views' registration.

The views themselves live in views_form.py (catalog, form, preview, confirm) and views_runs.py
(run pages, history, approvals); this module registers them and holds what they share. What the API and
the CLI show of a task too lives in presenting.py.
"""
from __future__ import annotations

from itertools import groupby

from flask import url_for
from markupsafe import Markup, escape

from console.admin.base import ConsoleView, deny
from console.auth.permissions import APPROVE_RUNS, LOG_DEV_TIME, RUN_TASKS
from console.deflection.tickets import helpdesk_url
from console.formatting import BOOKKEEPING, Personal, human_column, key_label, row_name, shown_value
from console.tasks.approvals import decision_notices
# sample_value is still imported from here by the task contract test.
from console.tasks.presenting import find_task, sample_value  # noqa: F401


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
    from werkzeug.routing import BuildError

    if not ref:
        return None
    try:
        return url_for("tickets.ticket_page", ref=ref)
    except BuildError:
        return None


def audit_entry_url(seq: int) -> str | None:
    """Where the audit view shows entry `seq`, when the audit domain offers such a page."""
    from werkzeug.routing import BuildError

    for endpoint, args in (("audit.entry", {"seq": seq}), ("audit.details_view", {"id": seq})):
        try:
            return url_for(endpoint, **args)
        except BuildError:
            continue
    return None


def _pending_approvals(user) -> dict:
    from console.tasks.views_runs import pending_runs

    runs = pending_runs(limit=10)
    return {"runs": runs, "me": user.email}


def _recent_runs(user) -> dict:
    from console.tasks.views_runs import recent_runs_of

    return {"runs": recent_runs_of(user.email, limit=5)}


def register_views(app, admin) -> None:
    """Add the task views, the run views and the home-page sections."""
    from console.admin.home import HomeSection, add_home_section
    from console.tasks.views_form import TaskCatalogView
    from console.tasks.views_runs import ApprovalQueueView, RunHistoryView

    admin.add_view(TaskCatalogView(name="Run a task", category="Tasks", endpoint="tasks", url="/admin/tasks"))
    admin.add_view(RunHistoryView(name="Run history", category="Tasks", endpoint="runs", url="/admin/runs"))
    admin.add_view(ApprovalQueueView(name="Approvals", category="Tasks", endpoint="approvals",
                                     url="/admin/approvals"))
    app.jinja_env.globals.setdefault("ticket_link", ticket_link)
    app.jinja_env.globals.setdefault("console_ticket_url", console_ticket_url)
    app.jinja_env.globals.setdefault("task_title", task_title)
    add_home_section(app, HomeSection(permission=APPROVE_RUNS, template="tasks/home_approvals.html",
                                      context=_pending_approvals, order=10))
    add_home_section(app, HomeSection(permission=RUN_TASKS, template="tasks/home_recent_runs.html",
                                      context=_recent_runs, order=30))
    add_home_section(app, HomeSection(permission=RUN_TASKS, template="tasks/home_decisions.html",
                                      context=decision_notices, order=5))
    # Developers are the only role with dev time and no task runs; admins see the section too.
    add_home_section(app, HomeSection(permission=LOG_DEV_TIME, template="tasks/home_write_task.html", order=60))


def change_tables(changes: list, personal: Personal | None = None, *, customer: str = "") -> list[dict]:
    """Each change as a before/after table: one row per column, `changed` set where the value differs.

    Every table has a `name` saying what the row is, and every row a `label` in words. With `personal`, the
    values to show (`shown_before`, `shown_after`) are masked by it and times are formatted; `customer` names
    the run's one customer row when the change itself does not hold the email.
    """
    personal = personal or Personal(revealed=True)
    changes = [change for change in changes or [] if isinstance(change, dict)]
    one_customer = customer if sum(1 for c in changes if c.get("table") == "customers") == 1 else ""
    tables = []
    for change in changes:
        table = change.get("table", "")
        before, after = change.get("before"), change.get("after")
        columns = list(after or {}) + [name for name in (before or {}) if name not in (after or {})]
        rows = []
        for column in columns:
            old = (before or {}).get(column)
            new = (after or {}).get(column)
            rows.append({"column": column, "label": human_column(column), "before": old, "after": new,
                         "shown_before": shown_value(personal.column(table, column, old)),
                         "shown_after": shown_value(personal.column(table, column, new)),
                         "changed": before is None or after is None or old != new})
        kind = "insert" if before is None else "delete" if after is None else "update"
        tables.append({"table": table, "key": key_label(change.get("key")), "kind": kind, "rows": rows,
                       "name": row_name(table, change.get("key"), before, after, personal=personal,
                                        customer=one_customer)})
    return tables


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def change_sentence(tables: list[dict], emails: int, *, done: bool) -> str:
    """What a run changes, as the end of a sentence: 'change the status and failed login count of Customer
    lo•••d@e•••.com (#1) and send 1 email' (with `done`: 'changed …, sent …'); '' when it changes nothing."""
    verbs = {"update": "changed", "insert": "added", "delete": "removed", "email": "sent"} if done else \
        {"update": "change", "insert": "add", "delete": "remove", "email": "send"}
    parts = []
    for table in tables:
        if table["kind"] == "update":
            changed = [row for row in table["rows"] if row["changed"]]
            changed = [row for row in changed if row["column"] not in BOOKKEEPING] or changed
            if changed:  # a row written back unchanged is not worth a word
                fields = _and([row["label"][:1].lower() + row["label"][1:] for row in changed])
                parts.append(f"{verbs['update']} the {fields} of {table['name']}")
        elif table["kind"] == "insert":
            name = table["name"]
            parts.append(f"{verbs['insert']} " + (f"a new {name[4:]}" if name.startswith("New ") else name))
        else:
            parts.append(f"{verbs['delete']} {table['name']}")
    if emails:
        parts.append(f"{verbs['email']} {emails} email{'' if emails == 1 else 's'}")
    return _and(parts) if parts else ""


def effect_lines(effects: list, personal: Personal) -> list[str]:
    """A run's effects in words, addresses masked: 'Email “refund_issued” to al•••e@e•••.com'."""
    lines = []
    for effect in effects or []:
        effect = personal.effect(effect)
        if isinstance(effect, dict) and effect.get("kind") == "email":
            lines.append(f"Email “{effect.get('template', '')}” to {effect.get('to', '')}")
        else:
            lines.append(personal.text(str(effect)))
    return lines


def task_title(name: str) -> str:
    """A task's title for pages that name runs; the name itself when the task is gone or turned off."""
    spec = find_task(name) if name else None
    return spec.title if spec else (name or "")
