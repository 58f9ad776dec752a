"""Selecting rows on a record list for a bulk run of a task offered on that record.

A list whose record has tasks offered on it (a task's `offered_on` and `record_param`) gets a checkbox
per row and a task picker, for roles that may run bulks. The form is a plain GET to the bulk page,
`task=<name>` and one `key=<record key>` per selected row, which opens the bulk form filled in; nothing
runs until that form's preview is confirmed. No script is needed.

The picker depends only on the app's task registry, the record and the user's role, so it is built once
for each of those: a list page only adds the checkboxes its rows need.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from flask import current_app, url_for
from markupsafe import Markup, escape

from console.lookup.offers import offered_specs
from console.permissions import RUN_TASKS, user_can

BULK_ENDPOINT = "bulk.index"  # the bulk runs' form page (console.bulk.views)
SELECT_HEADING = "Select"
_PICKERS: WeakKeyDictionary = WeakKeyDictionary()  # task registry -> {(record, role): picker or None}


def bulk_picker(user, record) -> Markup | None:
    """The task picker for a bulk run on `record`'s selected rows; None when this user may run no task
    offered on it in bulk (or the app has no bulk runs)."""
    registry = current_app.extensions.get("task_registry")
    if registry is None or BULK_ENDPOINT not in current_app.view_functions or not user_can(user, RUN_TASKS):
        return None
    pickers = _PICKERS.setdefault(registry, {})
    key = (record.name, user.role)
    if key not in pickers:
        specs = offered_specs(record.name, user)
        pickers[key] = _picker(record, specs) if specs else None
    return pickers[key]


def _picker(record, specs) -> Markup:
    what = escape(record.label.lower())
    # No task is picked for the agent: the first one offered may be an erasure. The browser asks for a choice.
    options = '<option value="" selected disabled>Choose a task…</option>' + "".join(
        f'<option value="{escape(spec.name)}">{escape(spec.title)}</option>' for spec in specs)
    # The form's opening and its controls: the list's table follows, then selection_form closes it.
    return Markup(
        f'<form method="get" action="{escape(url_for(BULK_ENDPOINT))}" id="bulk-select" '
        f'aria-label="Select rows for a bulk run">\n'
        f'<div class="form-inline mb-2" id="bulk-select-controls">'
        f'<label for="bulk-task" class="small text-muted mr-2">Run a task on the selected {what}:</label>'
        f'<select id="bulk-task" name="task" required class="form-control form-control-sm mr-2">{options}</select>'
        f'<button type="submit" class="btn btn-sm btn-outline-primary">Open the bulk run</button></div>')


def selection_form(picker: Markup, table: Markup) -> Markup:
    """The list's table inside the bulk form: its checkboxes and the picker are sent together."""
    return Markup(f"{picker}\n{table}\n</form>")
