"""The product owner's dashboard: each panel is a table, a chart drawn from the same rows, and a CSV."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from markupsafe import Markup

from console.admin.base import neutralize_formula
from console.deflection import charts, insights, metrics, ranking, rootcause, sprints
from console.deflection.models import ACTION_KIND_LABELS
from console.deflection.metrics import StatsFilter


@dataclass
class Panel:
    """One dashboard panel: rows under named columns, and the chart drawn from them."""

    key: str
    title: str
    question: str
    columns: list[tuple[str, str]]
    rows: list[dict]
    chart: Markup | None = None
    notes: list[str] = field(default_factory=list)

    def csv(self) -> str:
        """The rows as CSV; cells that a spreadsheet would run as formulas are made inert."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([label for _key, label in self.columns])
        for row in self.rows:
            writer.writerow([neutralize_formula(_cell(row.get(key))) for key, _label in self.columns])
        return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{name} {count}" for name, count in value.items() if count)
    return value


def _percent(value) -> str:
    return "" if value is None else f"{value:.0%}"


@dataclass(frozen=True)
class Context:
    session: object
    stats_filter: StatsFilter
    today: date
    capacity_hours: float
    # What two panels read alike (the ranking), computed once a request.
    cache: dict = field(default_factory=dict)

    def title(self, task: str) -> str:
        if "titles" not in self.cache:
            self.cache["titles"] = insights.task_titles()
        return self.cache["titles"].get(task, task)

    def ranking(self) -> dict:
        if "ranking" not in self.cache:
            self.cache["ranking"] = ranking.ranking(self.session, self.stats_filter)
        return self.cache["ranking"]


def deflection_panel(ctx: Context) -> Panel:
    answer = metrics.deflection(ctx.session, ctx.stats_filter, "week")
    rows = [row | {"rate": _percent(row["deflection_rate"])} for row in answer["rows"]]
    labels = [row["week"][5:] for row in rows]
    chart = charts.column_chart(
        "Tickets per week by outcome, and the deflection rate", labels,
        [("by a task", [row["deflected_by_task"] for row in rows]),
         ("by a runbook", [row["deflected_by_runbook"] for row in rows]),
         ("resolved otherwise", [row["resolved"] for row in rows]),
         ("escalated", [row["escalated"] for row in rows])],
        line=("deflection rate", [row["deflection_rate"] for row in rows]),
        label_every=max(len(rows) // 13, 1))
    totals = answer["totals"]
    return Panel("deflection", "Deflection rate by week",
                 "How many tickets does the console keep away from the developers?",
                 [("week", "Week of"), ("tickets", "Tickets"), ("deflected_by_task", "By a task"),
                  ("deflected_by_runbook", "By a runbook"), ("resolved", "Resolved otherwise"),
                  ("escalated", "Escalated"), ("rate", "Deflection rate")], rows, chart,
                 [f"Over the range: {totals['tickets']} tickets with an outcome, {totals['deflected']} deflected, "
                  f"{totals['escalated']} escalated, deflection rate {totals['deflection_rate']:.0%}."])


def funnel_panel(ctx: Context) -> Panel:
    rows = metrics.funnel(ctx.session, ctx.stats_filter)
    for row in rows:
        row["category"] = row["category"] or "(none)"
    chart = charts.bar_chart("Escalation funnel by category", [row["category"] for row in rows], [
        ("by a task", [row["deflected_by_task"] for row in rows]),
        ("by a runbook", [row["deflected_by_runbook"] for row in rows]),
        ("resolved otherwise", [row["resolved"] for row in rows]),
        ("knowledge", [row["knowledge"] for row in rows]),
        ("small change", [row["small_change"] for row in rows]),
        ("specialist", [row["specialist"] for row in rows]),
    ]) if rows else None
    return Panel("funnel", "Escalation funnel by category",
                 "Where do tickets end: solved with a task, with a runbook, or escalated (and of which class)?",
                 [("category", "Category"), ("tickets", "Tickets"), ("deflected_by_task", "Solved with a task"),
                  ("deflected_by_runbook", "Solved with a runbook"), ("resolved", "Resolved otherwise"),
                  ("escalated", "Escalated"), ("knowledge", "Escalated: knowledge"),
                  ("small_change", "Escalated: small change"), ("specialist", "Escalated: specialist")], rows, chart)


TREND_ARROWS = {"up": "▲", "down": "▼", "steady": "▶", "new": "new", "none": ""}


def opportunity_panel(ctx: Context) -> Panel:
    answer = ctx.ranking()
    rows = answer["rows"]
    for row in rows:
        trend = row["trend"]
        change = f" {trend['change']:+.0%}" if trend["change"] is not None else ""
        row["trend_text"] = f"{TREND_ARROWS[trend['direction']]}{change}".strip()
    top = rows[:10]
    chart = charts.bar_chart(f"Missing tools by score ({ranking.SCORE_UNIT} over 90 days)",
                             [f"{row['category'] or '(none)'}: {row['missing_tool']}" for row in top],
                             [(f"score, {ranking.SCORE_UNIT}", [row["score"] for row in top])]) if top else None
    window = f"{rows[0]['from']} to {rows[0]['to']}" if rows else "the last 90 days"
    return Panel("opportunities", "Tool-opportunity ranking", "Which tool or runbook should we build next?",
                 [("category", "Category"), ("missing_tool", "Missing tool (agents' answer)"),
                  ("escalations", "Escalations"), ("mean_dev_minutes", "Mean developer minutes"),
                  ("score", f"Score ({ranking.SCORE_UNIT})"), ("classes", "Classes"),
                  ("previous_escalations", "Previous 90 days"), ("trend_text", "Trend")], rows, chart,
                 [ranking.SCORE_EXPLANATION,
                  f"Escalations from {window}; the trend compares with the 90 days before. Answers naming a tool "
                  "that exists are never listed here: see “Existing tools agents asked for”."])


def existing_panel(ctx: Context) -> Panel:
    rows = [row | {"tool_title": row["tool"]["title"], "kind": row["tool"]["kind"], "runs": row["tool"]["runs"],
                   "refused_share": _percent(row["tool"]["refused_share"]) if row["tool"]["runs"] else "",
                   "verdict": row["tool"]["verdict"]} for row in ctx.ranking()["existing"]]
    chart = charts.bar_chart("Escalations that named a tool which exists", [row["tool_title"] for row in rows],
                             [("escalations", [row["escalations"] for row in rows])]) if rows else None
    return Panel("existing", "Existing tools agents asked for",
                 "Which tools do agents ask for that they already have?",
                 [("tool_title", "Tool"), ("kind", "Kind"), ("category", "Category"), ("escalations", "Escalations"),
                  ("score", f"Score ({ranking.SCORE_UNIT})"), ("runs", "Runs in the window"),
                  ("refused_share", "Refused, rejected or failed"), ("verdict", "Verdict")], rows, chart,
                 [f"“{ranking.REFUSED}” when at least {ranking.REFUSED_TOO_OFTEN:.0%} of the tool's runs in the 90 "
                  f"days were refused, rejected or failed; “{ranking.USED_TOO_RARELY}” otherwise: agents did not "
                  "know it or it did not fit."])


def health_panel(ctx: Context) -> Panel:
    rows = insights.tool_health(ctx.session, ctx.stats_filter)
    for row in rows:
        row["success"] = _percent(row["success_rate"]) if row["uses"] else ""
        row["title"] = ctx.title(row["task"])
        row["bulk_text"] = (f"{row['bulk_items']} ({row['bulk_succeeded']} succeeded, {row['bulk_refused']} refused, "
                            f"{row['bulk_failed']} failed)" if row["bulk_items"] else "")
    # One bar for a task's single runs and, apart, one for its bulk items: the same four results on each.
    bars = [bar for row in rows for bar in ((f"{row['title']}: single runs", "", row) if row["uses"] else None,
                                            (f"{row['title']}: bulk items", "bulk_", row) if row["bulk_items"]
                                            else None) if bar]
    chart = charts.bar_chart("Task runs by result, single runs and bulk items apart", [label for label, *_ in bars],
                             [(status, [row[prefix + status] for _label, prefix, row in bars])
                              for status in charts.STATUS_COLOURS],
                             colours=list(charts.STATUS_COLOURS.values())) if bars else None
    return Panel("health", "Tool health", "Do the tools work, and do they really settle the ticket?",
                 [("title", "Task"), ("uses", "Single runs"), ("success", "Success rate"), ("refused", "Refusals"),
                  ("failed", "Failures"), ("rejected", "Rejected"), ("undos", "Undos"),
                  ("deflections", "Tickets deflected"), ("false_deflections", "False deflections"),
                  ("bulk_text", "Bulk items")], rows, chart,
                 ["Single runs and bulk items count apart; the success rate is the single runs'. A bulk on a ticket "
                  "deflects it once. A false deflection is an escalation after the task had succeeded on the ticket."])


def tax_panel(ctx: Context) -> Panel:
    answer = metrics.support_tax(ctx.session, ctx.stats_filter, ctx.capacity_hours)
    rows = [row | {"share_text": _percent(row["share"])} for row in answer["rows"]]
    chart = charts.column_chart("Developer hours on escalations per week", [row["week"][5:] for row in rows],
                                [("developer hours", [row["dev_hours"] for row in rows])],
                                reference=("team capacity", [row["capacity_hours"] for row in rows]),
                                label_every=max(len(rows) // 13, 1))
    totals = answer["totals"]
    return Panel("tax", "Support tax", "How much of the team's time goes to support?",
                 [("week", "Week of"), ("dev_hours", "Developer hours"), ("capacity_hours", "Capacity hours"),
                  ("share_text", "Share of capacity"), ("escalations", "Escalations")], rows, chart,
                 [f"{totals['dev_hours']} developer hours over the range, {_percent(totals['share'])} of a capacity "
                  f"of {answer['capacity_hours_per_week']:g} hours a week (TEAM_CAPACITY_HOURS)."])


def impact_panel(ctx: Context) -> Panel:
    rows = insights.impact(ctx.session, ctx.stats_filter, today=ctx.today)
    for row in rows:
        row["change_text"] = f"{row['change']:+.0%}" if row["change"] is not None else row["note"]
        row["title"] = ctx.title(row["task"])
    shown = [row for row in rows if row["escalations_before"] is not None]
    chart = charts.bar_chart("Escalations in the tool's category, before and after it shipped",
                             [f"{row['title']} ({row['window_days']} days each side)" for row in shown],
                             [("before", [row["escalations_before"] for row in shown]),
                              ("after", [row["escalations_after"] for row in shown])], grouped=True,
                             colours=["#78909c", "#1565c0"]) if shown else None
    return Panel("impact", "Impact of shipped tools", "Did a tool we shipped reduce escalations?",
                 [("title", "Task"), ("category", "Category"), ("first_run", "First run"),
                  ("window_days", "Window (days)"), ("escalations_before", "Escalations before"),
                  ("escalations_after", "Escalations after"), ("change_text", "Change"),
                  ("tickets_before", "Tickets before"), ("tickets_after", "Tickets after")], rows, chart,
                 ["Equal windows on both sides of the first run, up to 90 days; not limited by the date range."])


def sprint_panel(ctx: Context) -> Panel:
    answer = sprints.velocity(ctx.session, ctx.capacity_hours, team=ctx.stats_filter.team, until=ctx.stats_filter.end,
                              today=ctx.today)
    rows = [row | {"tax_text": _percent(row["tax_share"])} for row in answer["rows"]]
    # Points and the tax are two units: columns on the left axis, the tax as a share on the right one.
    chart = charts.column_chart("Story points completed per sprint (columns, left), points planned (dashed) and "
                                "the support tax as a share of capacity (line, right)", [row["name"] for row in rows],
                                [("points completed", [row["completed_points"] for row in rows])],
                                reference=("points planned", [row["planned_points"] for row in rows]),
                                line=("support tax", [row["tax_share"] for row in rows])) if rows else None
    plan = answer["plan"]
    notes = ([f"Plan the next sprint with {plan['points']:g} points: the median completed over the last "
              f"{plan['sprints']} sprints (range {plan['low']} to {plan['high']}), with a median support tax of "
              f"{_percent(plan['tax_share'])} of capacity."] if plan else
             ["No sprint recorded yet: record one (planned and completed points) to see velocity here."])
    return Panel("sprints", "Velocity against the support tax", "How much does support cost the sprint?",
                 [("name", "Sprint"), ("starts_on", "From"), ("ends_on", "To"), ("planned_points", "Points planned"),
                  ("completed_points", "Points completed"), ("support_hours", "Support hours"),
                  ("escalations", "Escalations"), ("capacity_hours", "Capacity hours"),
                  ("tax_text", "Support tax (share of capacity)")], rows, chart,
                 notes + [f"Capacity is {ctx.capacity_hours:g} hours a week (TEAM_CAPACITY_HOURS), prorated to each "
                          "sprint's days; support hours are the developer time logged on escalations."])


def rootcause_panel(ctx: Context) -> Panel:
    rows = rootcause.by_root_cause(ctx.session, ctx.stats_filter)
    for row in rows:
        row["actions_text"] = "; ".join(
            f"{ACTION_KIND_LABELS[a['kind']]}: {a['action']}" + (f" <{a['link']}>" if a["link"] else "")
            + f" (done on {a['done']} of {a['escalations']})" for a in row["actions"])
        row["done_text"] = f"{row['done']} of {row['escalations']}"
    chart = charts.bar_chart("Escalations by root cause: actions done and not yet done",
                             [row["root_cause"] for row in rows],
                             [("action done", [row["done"] for row in rows]),
                              ("action not done", [row["escalations"] - row["done"] for row in rows])],
                             colours=["#2e7d32", "#c62828"]) if rows else None
    return Panel("rootcauses", "Root causes", "Why do escalations happen, and is something being done about it?",
                 [("root_cause", "Root cause (the fifth why)"), ("escalations", "Escalations"),
                  ("done_text", "Actions done"), ("actions_text", "Actions")], rows, chart,
                 ["From the 5-whys records developers write when they close an escalation, dated when written."])


def gaps_panel(ctx: Context) -> Panel:
    answer = insights.runbook_gaps(ctx.session, ctx.stats_filter)
    rows = [row | {"share_text": _percent(row["share"])} for row in answer["escalated_after_reading"]]
    chart = charts.bar_chart("Runbooks read before an escalation", [row["runbook"] for row in rows],
                             [("escalated after reading", [row["escalated_after"] for row in rows])]) if rows else None
    return Panel("gaps", "Runbook gaps: read, then escalated", "Which runbooks do not settle the ticket?",
                 [("runbook", "Runbook"), ("views", "Views"), ("escalated_after", "Escalated after reading"),
                  ("share_text", "Share")], rows, chart,
                 ["A runbook counts once per escalated ticket on which it was read before the escalation."])


def searches_panel(ctx: Context) -> Panel:
    rows = insights.unanswered_searches(ctx.session, ctx.stats_filter)
    chart = charts.bar_chart("Searches that found no runbook", [row["example"] for row in rows],
                             [("searches", [row["searches"] for row in rows])]) if rows else None
    return Panel("searches", "Runbook gaps: searches with no result", "What do agents look for in vain?",
                 [("example", "Agents searched for"), ("terms", "Search terms"), ("searches", "Searches"),
                  ("last_searched", "Last searched")], rows, chart,
                 ["Wording variants of one search count together. Not split by team."])


PANELS: dict[str, Callable[[Context], Panel]] = {
    "deflection": deflection_panel,
    "funnel": funnel_panel,
    "opportunities": opportunity_panel,
    "existing": existing_panel,
    "rootcauses": rootcause_panel,
    "health": health_panel,
    "impact": impact_panel,
    "tax": tax_panel,
    "sprints": sprint_panel,
    "gaps": gaps_panel,
    "searches": searches_panel,
}
# The page's tabs: (key, title, panels). A long page of eleven panels read as one list; each tab answers
# one question and its links keep the date range.
SECTIONS = (
    ("overview", "Deflection", ("deflection", "funnel")),
    ("build", "What to build", ("opportunities", "existing", "rootcauses")),
    ("tools", "Tool health and impact", ("health", "impact")),
    ("team", "Support tax and velocity", ("tax", "sprints")),
    ("runbooks", "Runbook gaps", ("gaps", "searches")),
)
