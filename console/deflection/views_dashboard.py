"""The deflection dashboard (Flask-Admin) and the home-page sections of this domain."""
from __future__ import annotations

import time

from flask import Response, abort, current_app, request
from flask_admin import expose
from flask_login import current_user

from console.admin.base import ConsoleView
from console.db import console_session, utcnow
from console.deflection import dashboard, insights, metrics, workflow
from console.deflection.metrics import FilterError, StatsFilter
from console.deflection.rotation import duty_on
from console.deflection.scope import capacity_hours, forced_team
from console.permissions import READ_TEAM_STATS

HOME_ESCALATIONS = 20  # the developer's home lists the newest ones; the on-duty page has the rest


def _context(args) -> dashboard.Context:
    stats_filter = metrics.parse_filter(args, today=utcnow().date(), forced_team=forced_team(current_user))
    return dashboard.Context(console_session(), stats_filter, utcnow().date(), capacity_hours())


class DashboardView(ConsoleView):
    """Deflection rate, funnel, opportunities, tool health, support tax, impact and runbook gaps."""

    permission = READ_TEAM_STATS

    @expose("/")
    def index(self):
        try:
            ctx = _context(request.args)
        except FilterError as exc:
            ctx = _context({})
            problem = f"{exc.field}: {exc}"
        else:
            problem = ""
        wanted = request.args.get("panel")
        panels, timings = [], {}
        for key, build in dashboard.PANELS.items():
            if wanted and wanted in dashboard.PANELS and key != wanted:
                continue
            started = time.perf_counter()
            panels.append(build(ctx))
            timings[key] = round((time.perf_counter() - started) * 1000, 1)
        current_app.logger.debug("deflection dashboard panels (ms): %s", timings)
        query = {name: value for name, value in (("from", ctx.stats_filter.start.isoformat()),
                                                 ("to", ctx.stats_filter.end.isoformat()),
                                                 ("category", ctx.stats_filter.category),
                                                 ("team", ctx.stats_filter.team)) if value}
        return self.render("deflection/dashboard.html", panels=panels, filter=ctx.stats_filter, query=query,
                           problem=problem, team_locked=forced_team(current_user) is not None,
                           categories=workflow.categories()), 400 if problem else 200

    @expose("/csv/<panel>")
    def csv(self, panel: str):
        build = dashboard.PANELS.get(panel)
        if build is None:
            abort(404, description=f"There is no dashboard panel called {panel!r}.")
        try:
            ctx = _context(request.args)
        except FilterError as exc:
            abort(400, description=f"{exc.field}: {exc}")
        name = f"deflection-{panel}-{ctx.stats_filter.start}-{ctx.stats_filter.end}.csv"
        return Response(build(ctx).csv(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
    return {"duty": duty_on(db, utcnow()), "shown": HOME_ESCALATIONS,
            "mine": workflow.open_escalations(db, user.email, limit=HOME_ESCALATIONS, newest_first=True),
            "mine_count": workflow.count_open_escalations(db, developer=user.email)}


def start_section(user) -> dict:
    from flask import session

    return {"current_ref": session.get("ticket_ref")}
