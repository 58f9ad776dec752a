"""The runbook pages: search and list, one runbook for the ticket in hand, and checklist ticks."""
from __future__ import annotations

import re
from datetime import date

from flask import abort, current_app, jsonify, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError

from console.admin.base import ConsoleView
from console.db import begin_writing, console_session
from console.deflection.ticket_refs import TicketError, clean_ref
from console.deflection.tickets import find_ticket
from console.extensions import request_user
from console.origin import from_own_page
from console.permissions import LOOKUP, WORK_TICKETS, role_refusal, role_title, user_can
from console.runbooks.gaps import note_search_miss
from console.runbooks.lint import REVIEW_MAX_AGE_DAYS
from console.runbooks.models import MAX_CHECK_ID_LENGTH
from console.runbooks.render import default_task_url, render_markdown
from console.runbooks.search import MAX_QUERY_CHARS
from console.runbooks.tickets import outcomes_after_viewing, record_view, set_tick, ticked_items

TASK_FORM_ENDPOINT = "tasks.task_form"
ESCALATION_GUIDE = "escalating-a-ticket"
TICKETS_ENDPOINT = "tickets.index"
MAX_RESULTS = 50
_ORDER_ID = re.compile(r"^[0-9]{1,12}$")


def library():
    """The app's runbook library."""
    return current_app.extensions["runbooks"]


def _user():
    return request_user()


def _ticket_ref() -> str:
    """The ticket in hand: only the one the agent opened (kept in the session), never a URL's."""
    if not user_can(current_user, WORK_TICKETS):
        return ""
    ref = session.get("ticket_ref") or ""
    try:
        return clean_ref(ref) if ref else ""
    except TicketError:
        return ""


def _known_values(ref: str) -> dict[str, str]:
    """The customer and order the agent named (`?email=`, `?order_id=`), else the ticket's customer."""
    values: dict[str, str] = {}
    email = request.args.get("email", "").strip()
    if email and len(email) <= 254 and "@" in email and not any(ch.isspace() for ch in email):
        values["customer.email"] = email
    order_id = request.args.get("order_id", "").strip()
    if _ORDER_ID.match(order_id):
        values["order.id"] = order_id
    if ref and "customer.email" not in values:
        ticket = find_ticket(console_session(), ref)
        if ticket is not None and ticket.customer:
            values["customer.email"] = ticket.customer
    return values


def _carried(known: dict[str, str]) -> dict[str, str]:
    """Query arguments that keep the customer and order when following a link to another runbook."""
    carried = {}
    if "customer.email" in known:
        carried["email"] = known["customer.email"]
    if "order.id" in known:
        carried["order_id"] = known["order.id"]
    return carried


def _task_url(name: str, params: dict[str, str]) -> str:
    try:
        return url_for(TASK_FORM_ENDPOINT, name=name, **params)
    except BuildError:  # the task pages are not registered (tasks domain off): keep the agreed URL
        return default_task_url(name, params)


def _optional_url(endpoint: str) -> str | None:
    """The URL of another domain's page, or None when that domain is not there."""
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def _runnable_tasks(user) -> set[str]:
    registry = current_app.extensions.get("task_registry")
    if registry is None:
        return set()
    return {spec.name for spec in registry.for_user(user)}


class RunbookView(ConsoleView):
    """Search the runbooks and read one, with its task buttons filled for the ticket in hand."""

    permission = LOOKUP

    @expose("/")
    def index(self):
        query = request.args.get("q", "")[:MAX_QUERY_CHARS]
        catalog = library().catalog()
        hits = catalog.index.search(query, limit=MAX_RESULTS) if query.strip() else []
        # A link from another site may carry a search; only one made here is a gap worth keeping.
        recorded = bool(query.strip()) and not hits and from_own_page(request) and note_search_miss(
            console_session(), query, actor=_user().email, ticket=_ticket_ref())
        groups: dict[str, list] = {}
        for runbook in sorted(catalog.runbooks, key=lambda r: (r.category.lower(), r.title.lower())):
            groups.setdefault(runbook.category or "uncategorised", []).append(runbook)
        return self.render("runbooks/list.html", query=query, hits=hits, groups=groups, recorded=recorded,
                           total=len(catalog.runbooks), ticket=_ticket_ref(),
                           escalation_guide=ESCALATION_GUIDE if ESCALATION_GUIDE in catalog.by_slug else None)

    @expose("/<slug>/")
    def page(self, slug: str):
        runbook = library().get(slug)
        if runbook is None:
            abort(404, description=f"There is no runbook called {slug!r}. Search the runbooks instead.")
        user = _user()
        ref = _ticket_ref()
        session_db = console_session()
        known = _known_values(ref)
        ticked = ticked_items(session_db, ref, slug) if ref else None
        carried = _carried(known)

        def runbook_url(target: str, anchor: str | None) -> str:
            return url_for("runbooks.page", slug=target, **carried) + (f"#{anchor}" if anchor else "")

        rendered = render_markdown(
            runbook.body, slug=slug, context={"ticket": ref, **known}, task_url=_task_url,
            runbook_url=runbook_url, available_tasks=_runnable_tasks(user), ticked=ticked,
        )
        # Counted only when the agent came from one of our pages: a link elsewhere must not forge a
        # deflection. From elsewhere (a helpdesk link), the page offers a button that counts it.
        counted = from_own_page(request)
        if ref and not runbook.has_error and counted:
            _record_view(ref, slug, user)
        overdue = runbook.reviewed is not None and (date.today() - runbook.reviewed).days > REVIEW_MAX_AGE_DAYS
        return self.render(
            "runbooks/page.html", runbook=runbook, body=Markup(rendered.html), rendered=rendered,
            related=library().related(runbook), outcomes=outcomes_after_viewing(session_db, slug),
            ticket=ref, known=known, overdue=overdue, review_days=REVIEW_MAX_AGE_DAYS,
            can_tick=bool(ref) and user_can(user, WORK_TICKETS), counted=counted or runbook.has_error,
            start_ticket_url=_optional_url(TICKETS_ENDPOINT) if user_can(user, WORK_TICKETS) else None,
        )

    @expose("/<slug>/viewed", methods=("POST",))
    def count_view(self, slug: str):
        """Count the runbook as viewed on the ticket in hand (the page's button, when it came from another site)."""
        if not user_can(current_user, WORK_TICKETS):
            abort(403, description=f"Your role ({role_title(current_user.role)}) does not work tickets.")
        runbook = library().get(slug)
        if runbook is None:
            abort(404, description=f"There is no runbook called {slug!r}.")
        ref = _ticket_ref()
        if not ref:
            abort(400, description="Start a ticket first: a view is counted on the ticket in hand.")
        if not runbook.has_error:
            _record_view(ref, slug, _user())
        return redirect(url_for("runbooks.page", slug=slug), code=303)

    @expose("/<slug>/ticks", methods=("POST",))
    def tick(self, slug: str):
        """Keep a checklist tick on the ticket in hand: JSON {"check": id, "ticked": bool}."""
        if not user_can(current_user, WORK_TICKETS):
            return _json_error(403, "forbidden", role_refusal(current_user.role, "work tickets"))
        runbook = library().get(slug)
        if runbook is None:
            return _json_error(404, "not_found", f"there is no runbook called {slug!r}")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return _json_error(400, "invalid_json", "send a JSON object: {\"check\": ..., \"ticked\": true}")
        ref = _ticket_ref()
        if not ref:
            return _json_error(400, "ticket_required", "start a ticket first: ticks are kept on the ticket",
                               {"ticket": "no ticket is being worked on"})
        check_id, ticked = data.get("check"), data.get("ticked")
        checklist = {item.check_id for item in render_markdown(runbook.body, slug=slug).checklist}
        if not isinstance(check_id, str) or len(check_id) > MAX_CHECK_ID_LENGTH or check_id not in checklist:
            return _json_error(400, "invalid", "unknown checklist item", {"check": "not an item of this runbook"})
        if not isinstance(ticked, bool):
            return _json_error(400, "invalid", "ticked must be true or false", {"ticked": "expected true or false"})
        try:
            set_tick(console_session(), ref, slug, check_id, ticked, actor=_user().email)
            console_session().commit()
        except SQLAlchemyError:
            console_session().rollback()
            current_app.logger.exception("could not keep a checklist tick")
            return _json_error(503, "unavailable", "the tick could not be saved; try again")
        return jsonify({"ticket": ref, "check": check_id, "ticked": ticked})


def _record_view(ref: str, slug: str, user) -> None:
    session_db = console_session()
    try:
        begin_writing(session_db)
        record_view(session_db, ref, slug, actor=user.email)
        session_db.commit()
    except (SQLAlchemyError, TicketError):
        # The agent still gets the runbook; only the deflection count misses this view.
        session_db.rollback()
        current_app.logger.exception("could not record a runbook view")


def _json_error(status: int, code: str, message: str, fields: dict | None = None):
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status
