"""The tasks a customer or order page offers, each a link to the task's form, pre-filled.

A task applies to a customer when it takes an `email` parameter and to an order when it takes
an `order_id`; the link carries that value and the ticket being worked on. The task framework
is another domain: without its registry or its form the pages simply offer nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, session, url_for

SUBJECT_PARAMS = {"customer": "email", "order": "order_id"}
TASK_FORM_ENDPOINT = "tasks.task_form"
RUN_PAGE_ENDPOINT = "runs.run_page"


@dataclass(frozen=True)
class TaskOffer:
    name: str
    title: str
    risk: str
    url: str


def run_url(run_id: int) -> str | None:
    """The run's own page, when the task framework provides one."""
    if RUN_PAGE_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(RUN_PAGE_ENDPOINT, run_id=run_id)


def _param_names(spec) -> set[str]:
    return {getattr(param, "name", param) for param in getattr(spec, "params", ())}


def offered_tasks(user, subject: str, value) -> list[TaskOffer]:
    """Return the tasks `user` may run on this customer (email) or order (order id), as links."""
    param = SUBJECT_PARAMS[subject]
    registry = current_app.extensions.get("task_registry")
    if registry is None or TASK_FORM_ENDPOINT not in current_app.view_functions or value in (None, ""):
        return []
    ticket = session.get("ticket_ref") or None
    offers = []
    for spec in registry.for_user(user):
        if param not in _param_names(spec):
            continue
        url = url_for(TASK_FORM_ENDPOINT, name=spec.name, ticket=ticket, **{param: value})
        offers.append(TaskOffer(spec.name, spec.title, getattr(spec, "risk_label", ""), url))
    return offers
