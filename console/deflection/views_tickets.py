"""Ticket pages: start a ticket, see it, resolve, escalate, reopen, log developer time; the on-duty page."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from werkzeug.routing import BuildError

from console.admin.base import ConsoleView, deny
from console.permissions import LOG_DEV_TIME, READ_STATS, WORK_TICKETS, user_can
from console.db import console_session, utcnow
from console.deflection import ranking, rootcause, workflow
from console.deflection.models import ACTION_KIND_LABELS, ESCALATION_CLASS_HELP, ESCALATION_CLASSES, OUTCOMES
from console.deflection.listing import find_tickets, parse_query
from console.deflection.digest import batching, interruption_rows, interruptions
from console.deflection.rotation import category_teams, duties_now, duty_by, duty_on, schedule
from console.deflection.story import run_stories
from console.deflection.ticket_refs import TicketError, clean_ref
from console.deflection.tickets import find_ticket, ticket_events
from console.web import is_local_path

ON_DUTY_LIST = 50
INTERRUPTION_DAYS = 28


def optional_url(endpoint: str, **values) -> str | None:
    """A URL for an endpoint another domain may or may not provide."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def ticket_page_url(ref: str) -> str:
    return url_for("tickets.ticket_page", ref=ref)


def runbook_titles(slugs) -> dict[str, str]:
    """The title of each runbook still in the library, by slug; a removed runbook has none."""
    library = current_app.extensions.get("runbooks")
    found = {slug: library.get(slug) for slug in slugs} if library is not None else {}
    return {slug: runbook.title for slug, runbook in found.items() if runbook is not None}


# The list's tabs: (label, query arguments). With no arguments the list is the first: my open tickets.
TABS = (("My open tickets", {"mine": "1", "status": "open"}), ("All mine", {"mine": "1"}),
        ("Escalated", {"status": "escalated"}), ("All tickets", {"mine": "0"}))


def _is_tab(shown: dict, tab: dict) -> bool:
    """Whether the list shown is exactly that tab's, with no search or category on top."""
    return not (shown["q"] or shown["category"]) and all(shown[k] == tab.get(k, "") for k in ("status", "mine"))


class TicketView(ConsoleView):
    """Agents find and work their tickets here; developers close the escalations routed to them."""

    permission = WORK_TICKETS

    def is_accessible(self) -> bool:
        return user_can(current_user, WORK_TICKETS) or user_can(current_user, LOG_DEV_TIME)

    @expose("/")
    def index(self):
        args = request.args if any(request.args.get(name) for name in ("status", "category", "mine", "q", "after")) \
            else TABS[0][1]
        shown = {name: (args.get(name) or "").strip()[:254] for name in ("status", "category", "mine", "q")}
        tickets, older, error = [], None, None
        try:
            query = parse_query(args, current_user.email)
            tickets, after = find_tickets(console_session(), query)
            older = url_for(".index", after=after, **{k: v for k, v in shown.items() if v}) if after else None
        except TicketError as exc:
            error = exc
        return self.render("deflection/tickets.html", tickets=tickets, older=older, shown=shown, error=error,
                           tabs=[(label, url_for(".index", **tab), _is_tab(shown, tab)) for label, tab in TABS],
                           outcomes=OUTCOMES, categories=workflow.categories(), current_ref=session.get("ticket_ref"),
                           can_work=user_can(current_user, WORK_TICKETS)), 400 if error else 200

    @expose("/start", methods=("POST",))
    def start(self):
        if not user_can(current_user, WORK_TICKETS):
            return deny(self)
        try:
            ref = clean_ref(request.form.get("ref", ""))
        except TicketError as exc:
            flash(f"Ticket reference: {exc}", "error")
            back = request.form.get("next")
            return redirect(back if is_local_path(back) else url_for(".index"))
        session["ticket_ref"] = ref
        return redirect(ticket_page_url(ref))

    @expose("/stop", methods=("POST",))
    def stop(self):
        session.pop("ticket_ref", None)
        flash("You are no longer working on a ticket.", "info")
        return redirect(url_for(".index"))

    @expose("/view")
    def ticket_page(self):
        try:
            ref = clean_ref(request.args.get("ref", ""))
        except TicketError as exc:
            abort(400, description=f"Ticket reference: {exc}")
        return self._render_ticket(ref)

    def _render_ticket(self, ref: str, *, errors: dict | None = None, form: dict | None = None, status: int = 200):
        db = console_session()
        ticket = find_ticket(db, ref)
        events = ticket_events(db, ticket) if ticket else []
        runs = run_stories(db, ticket, events)
        runbooks = list(dict.fromkeys(event.runbook for event in events if event.kind == "runbook_viewed"))
        allowed = workflow.allowed_outcomes(ticket)
        return self.render(
            "deflection/ticket.html", ref=ref, ticket=ticket, events=events, runs=runs, runbooks=runbooks,
            runs_by_event={story.first_event: story for story in runs}, allowed=allowed,
            runbook_titles=runbook_titles(runbooks),
            helpdesk_url=workflow.helpdesk_url(ref), is_current=session.get("ticket_ref") == ref,
            classes=ESCALATION_CLASSES, class_help=ESCALATION_CLASS_HELP, categories=workflow.categories(),
            can_work=user_can(current_user, WORK_TICKETS), can_log_time=user_can(current_user, LOG_DEV_TIME),
            errors=errors or {}, form=form or {}, optional_url=optional_url,
            root_causes=rootcause.records_of(db, ticket) if ticket else [], action_kinds=ACTION_KIND_LABELS,
            tool_suggestions=(ranking.suggestions(db, utcnow().date())
                              if user_can(current_user, WORK_TICKETS) and "escalated" in allowed else []),
        ), status

    def _record(self, outcome: str):
        if not user_can(current_user, WORK_TICKETS):
            return deny(self)
        ref = request.form.get("ref", "")
        form = request.form.to_dict()
        try:
            ref = clean_ref(ref)
            parsed = workflow.parse_outcome(form | {"outcome": outcome})
            ticket, changed = workflow.record_outcome(console_session(), ref, parsed, actor=current_user.email)
            console_session().commit()
        except TicketError as exc:
            console_session().rollback()
            if exc.field == "ticket":
                abort(400, description=f"Ticket reference: {exc}")
            return self._render_ticket(ref, errors={exc.field: str(exc)}, form=form | {"form_name": outcome},
                                       status=400)
        if not changed:
            flash(f"Ticket {ref} was already {outcome}; nothing changed.", "info")
        elif outcome == "escalated":
            who = ticket.assignee or "nobody (no developer is on the support rotation)"
            flash(f"Escalated ticket {ref} to {who}, the developer on support duty. {_when_told(parsed.urgent)}",
                  "success")
        else:
            flash(f"Ticket {ref} is now {ticket.outcome.replace('_', ' ')}.", "success")
        return redirect(ticket_page_url(ref))

    @expose("/resolve", methods=("POST",))
    def resolve(self):
        return self._record("resolved")

    @expose("/escalate", methods=("POST",))
    def escalate(self):
        return self._record("escalated")

    @expose("/reopen", methods=("POST",))
    def reopen(self):
        return self._record("reopened")

    @expose("/time", methods=("POST",))
    def log_time(self):
        if not user_can(current_user, LOG_DEV_TIME):
            return deny(self)
        form = request.form.to_dict()
        ref = form.get("ref", "")
        try:
            ref = clean_ref(ref)
            workflow.log_dev_time(console_session(), ref, actor=current_user.email, minutes=form.get("minutes"),
                                  note=form.get("note", ""), close=form.get("close") == "1",
                                  five_whys=rootcause.given(form))
            console_session().commit()
        except TicketError as exc:
            console_session().rollback()
            if exc.field == "ticket" and find_ticket(console_session(), ref) is None:
                abort(404, description=f"There is no ticket {ref!r}.")
            return self._render_ticket(ref, errors={exc.field: str(exc)}, form=form | {"form_name": "time"},
                                       status=400)
        flash(f"Logged {form.get('minutes')} minutes on ticket {ref}"
              + (" and closed the escalation." if form.get("close") == "1" else "."), "success")
        return redirect(ticket_page_url(ref))


    @expose("/action-done", methods=("POST",))
    def action_done(self):
        if not user_can(current_user, LOG_DEV_TIME):
            return deny(self)
        form = request.form.to_dict()
        try:
            ref = clean_ref(form.get("ref", ""))
            entry = rootcause.mark_done(console_session(), ref, form.get("root_cause_id", ""), actor=current_user.email)
            console_session().commit()
        except TicketError as exc:
            console_session().rollback()
            abort(400, description=f"{exc.field}: {exc}")
        flash(f"The action “{entry.action}” is marked done.", "success")
        return redirect(ticket_page_url(ref))


def _digest_time() -> str:
    """CONSOLE_DIGEST_TIME as the team wrote it (a time of day in CONSOLE_TIMEZONE, not a moment to convert)."""
    at = current_app.config.get("DIGEST_TIME")
    return at.strftime("%H:%M") if at else "off"


def _when_told(urgent: bool) -> str:
    """When the developer hears of an escalation: now, or in the next daily digest."""
    if not batching() or urgent:
        return "They are notified now."
    return f"It is not urgent, so they will see it in the daily digest at {_digest_time()}."


class OnDutyView(ConsoleView):
    """The support rotation, and the open escalations routed to each developer."""

    permission = LOG_DEV_TIME

    def is_accessible(self) -> bool:
        return user_can(current_user, LOG_DEV_TIME) or user_can(current_user, READ_STATS)

    @expose("/")
    def index(self):
        db = console_session()
        today = utcnow().date()
        mine = workflow.open_escalations(db, current_user.email)
        everyone = workflow.open_escalations(db, None, limit=ON_DUTY_LIST)
        report = interruptions(db, today - timedelta(days=INTERRUPTION_DAYS - 1), today)
        return self.render("deflection/on_duty.html", mine=mine, everyone=everyone,
                           urgent=workflow.urgent_ids(db, everyone + mine), open_count=workflow.count_open_escalations(db),
                           duty=duty_on(db, today), upcoming=schedule(db, today, 6),
                           team_duties=[duty for duty in duties_now(db, today) if duty.team],
                           category_teams=category_teams(), duty_by=duty_by(),
                           digest_time=_digest_time(), batching=batching(),
                           interruptions=interruption_rows(report), report=report,
                           interruption_days=INTERRUPTION_DAYS,
                           sprint_days=current_app.config.get("SPRINT_DAYS"))
