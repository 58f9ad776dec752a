"""The tasks a record's page offers, each a link to the task's form, pre-filled.

A task states the record it is offered on and the parameter that record fills (`offered_on`,
`record_param`); the value is the record's column of that name, else its key. The form's link carries
that value and the ticket being worked on. When the value is personal data, the masked page links to a
route that adds it, so the page never carries what it masks.

A task may also say when it applies (`applies_when`, a check on the row the page already read): one that
does not apply to this record is listed with its reason instead of a link, so a delivered order offers no
cancellation. The task's refusal after the preview stays the rule; this only keeps wrong turns off the page.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, session, url_for
from flask.globals import _cv_app

from console.lookup.records import RecordPage, fill_value

TASK_FORM_ENDPOINT = "tasks.task_form"
RUN_PAGE_ENDPOINT = "runs.run_page"


@dataclass(frozen=True)
class TaskOffer:
    name: str
    title: str
    risk: str
    url: str | None  # None when the task does not apply to this record
    reason: str = ""  # why it does not apply


def run_url(run_id: int) -> str | None:
    """The run's own page, when the task framework provides one."""
    if RUN_PAGE_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(RUN_PAGE_ENDPOINT, run_id=run_id)


def offered_specs(record: str, user) -> list:
    """The tasks offered on this record that `user` may run; [] without the task framework's form."""
    app = _cv_app.get().app  # not current_app: each use of the proxy is three calls more
    registry = app.extensions.get("task_registry")
    if registry is None or TASK_FORM_ENDPOINT not in app.view_functions:
        return []
    return registry.offered_on(record, user)


def form_url(spec, value) -> str:
    ticket = session.get("ticket_ref") or None
    return url_for(TASK_FORM_ENDPOINT, name=spec.name, ticket=ticket, **{spec.record_param: value})


def offer_url(user, page: RecordPage, name: str) -> str | None:
    """The task form pre-filled from this record; None when the task is not offered on it to this user."""
    for spec in offered_specs(page.reflected.record.name, user):
        if spec.name == name:
            value = fill_value(page, spec.record_param)
            if value in (None, "") or spec.not_applying(page.values):
                return None
            return form_url(spec, value)
    return None


def offered_tasks(user, page: RecordPage, page_url: str) -> list[TaskOffer]:
    """The tasks `user` may run on this record, as links (indirect when the value is personal); those that do
    not apply to it come without a link, with the reason."""
    personal = page.reflected.record.personal
    offers = []
    for spec in offered_specs(page.reflected.record.name, user):
        value = fill_value(page, spec.record_param)
        if value in (None, ""):
            continue
        reason = spec.not_applying(page.values)
        if reason:
            offers.append(TaskOffer(spec.name, spec.title, getattr(spec, "risk_label", ""), None, reason))
            continue
        indirect = spec.record_param in page.values and spec.record_param in personal
        url = f"{page_url}/tasks/{spec.name}" if indirect else form_url(spec, value)
        offers.append(TaskOffer(spec.name, spec.title, getattr(spec, "risk_label", ""), url))
    return offers
