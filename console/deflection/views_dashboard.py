"""The deflection dashboard (Flask-Admin) and the home-page sections of this domain."""
from __future__ import annotations

import time

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from console.admin.base import ConsoleView, deny
from console.dates import DATE_LABELS, in_form_words
from console.db import console_session, utcnow
from console.deflection import dashboard, insights, metrics, sprints, workflow
from console.deflection.metrics import FilterError, StatsFilter
from console.deflection.rotation import duty_on
from console.deflection.scope import capacity_hours, forced_team
from console.permissions import MANAGE_SPRINTS, READ_TEAM_STATS, user_can

HOME_ESCALATIONS = 20  # the developer's home lists the newest ones; the on-duty page has the rest


def _context(args) -> dashboard.Context:
    stats_filter = metrics.parse_filter(args, today=utcnow().date(), forced_team=forced_team(current_user))
    return dashboard.Context(console_session(), stats_filter, utcnow().date(), capacity_hours())


class DashboardView(ConsoleView):
    """Deflection rate, funnel, opportunities, tool health, support tax, impact and runbook gaps."""

    permission = READ_TEAM_STATS

    @expose("/")
    def index(self):
        return self._page()

    def _page(self, *, sprint_form: dict | None = None, sprint_errors: dict | None = None):
        args = request.args if request.method == "GET" else {"section": "team"} | {
            key: request.form[key] for key in ("from", "to", "category", "team") if request.form.get(key)}
        try:
            ctx = _context(args)
        except FilterError as exc:
            ctx = _context({})
            problem = in_form_words(exc.fields, DATE_LABELS)
        else:
            problem = ""
        section, keys = _section(args)
        panels, timings = [], {}
        for key in keys:
            started = time.perf_counter()
            panels.append(dashboard.PANELS[key](ctx))
            timings[key] = round((time.perf_counter() - started) * 1000, 1)
        current_app.logger.debug("deflection dashboard panels (ms): %s", timings)
        query = {name: value for name, value in (("from", ctx.stats_filter.start.isoformat()),
                                                 ("to", ctx.stats_filter.end.isoformat()),
                                                 ("category", ctx.stats_filter.category),
                                                 ("team", ctx.stats_filter.team)) if value}
        return self.render("deflection/dashboard.html", panels=panels, filter=ctx.stats_filter, query=query,
                           problem=problem, team_locked=forced_team(current_user) is not None,
                           categories=workflow.categories(), sections=dashboard.SECTIONS, section=section,
                           can_record_sprint=user_can(current_user, MANAGE_SPRINTS),
                           sprint_form=sprint_form or {}, sprint_errors=sprint_errors or {}), \
            400 if problem or sprint_errors else 200

    @expose("/sprints", methods=("POST",))
    def record_sprint(self):
        if not user_can(current_user, MANAGE_SPRINTS):
            return deny(self)
        form = request.form.to_dict()
        try:
            sprint = sprints.add_sprint(console_session(), sprints.parse_sprint(form, form=True), actor=current_user.email)
            console_session().commit()
        except sprints.SprintError as exc:
            console_session().rollback()
            return self._page(sprint_form=form, sprint_errors=exc.errors)
        flash(f"Recorded {sprint.name}: {sprint.completed_points} of {sprint.planned_points} points.", "success")
        back = {key: form[key] for key in ("from", "to", "category", "team") if form.get(key)}
        return redirect(url_for(".index", section="team", **back) + "#panel-sprints")

    @expose("/csv/<panel>")
    def csv(self, panel: str):
        build = dashboard.PANELS.get(panel)
        if build is None:
            abort(404, description=f"There is no dashboard panel called {panel!r}.")
        try:
            ctx = _context(request.args)
        except FilterError as exc:
            abort(400, description=in_form_words(exc.fields, DATE_LABELS))
        name = f"deflection-{panel}-{ctx.stats_filter.start}-{ctx.stats_filter.end}.csv"
        return Response(build(ctx).csv(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _section(args) -> tuple[str, tuple[str, ...]]:
    """The tab shown and its panels; `panel` shows one panel alone (the CSV links and tests use it)."""
    panel = args.get("panel")
    sections = {key: panels for key, _title, panels in dashboard.SECTIONS}
    if panel in dashboard.PANELS:
        return next(key for key, panels in sections.items() if panel in panels), (panel,)
    key = args.get("section") if args.get("section") in sections else dashboard.SECTIONS[0][0]
    return key, sections[key]


def summary_section(user) -> dict:
    """The product owner's home block: the last four weeks and the top five opportunities."""
    today = utcnow().date()
    stats_filter = metrics.parse_filter({}, today=today, forced_team=forced_team(user), default_days=28)
    db = console_session()
    answer = metrics.deflection(db, stats_filter, "week")
    before = metrics.deflection(db, metrics.previous(stats_filter), "week")["totals"]
    return {"totals": answer["totals"], "previous": before, "filter": stats_filter,
            "opportunities": insights.opportunities(db, StatsFilter(today, today, "", stats_filter.team), limit=5)}


def duty_section(user) -> dict:
    """A developer's home block: who is on duty, and the escalations routed to them."""
    db = console_session()
    mine = workflow.open_escalations(db, user.email, limit=HOME_ESCALATIONS, newest_first=True)
    return {"duty": duty_on(db, utcnow()), "shown": HOME_ESCALATIONS, "mine": mine,
            "urgent": workflow.urgent_ids(db, mine),
            "mine_count": workflow.count_open_escalations(db, developer=user.email)}


def start_section(user) -> dict:
    from flask import session

    return {"current_ref": session.get("ticket_ref")}
