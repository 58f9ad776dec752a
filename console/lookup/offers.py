"""The tasks a customer or order page offers, each a link to the task's form, pre-filled.

A task applies to a customer when it takes an `email` parameter and to an order when it takes
an `order_id`; the form's link carries that value and the ticket being worked on. The task framework
is another domain: without its registry or its form the pages simply offer nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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


def _applicable(user, subject: str) -> list:
    """The specs this user may run that take the subject's parameter; [] without the task framework."""
    registry = current_app.extensions.get("task_registry")
    if registry is None or TASK_FORM_ENDPOINT not in current_app.view_functions:
        return []
    param = SUBJECT_PARAMS[subject]
    return [spec for spec in registry.for_user(user) if param in _param_names(spec)]


def _form_url(subject: str, value, name: str) -> str:
    ticket = session.get("ticket_ref") or None
    return url_for(TASK_FORM_ENDPOINT, name=name, ticket=ticket, **{SUBJECT_PARAMS[subject]: value})


def task_form_url(user, subject: str, value, name: str) -> str | None:
    """The task form pre-filled for this customer (email) or order (order id); None if not offered."""
    if value in (None, "") or not any(spec.name == name for spec in _applicable(user, subject)):
        return None
    return _form_url(subject, value, name)


def offered_tasks(user, subject: str, value, *, link: Callable[[str], str] | None = None) -> list[TaskOffer]:
    """Return the tasks `user` may run on this customer or order, as links.

    `link(name)` builds an indirect link: a masked page must not carry the email it masks
    inside its task links, so customer pages link to a redirect that adds it.
    """
    if value in (None, ""):
        return []
    offers = []
    for spec in _applicable(user, subject):
        url = link(spec.name) if link else _form_url(subject, value, spec.name)
        offers.append(TaskOffer(spec.name, spec.title, getattr(spec, "risk_label", ""), url))
    return offers
