"""The tool-opportunity ranking: what agents say would have let them resolve an escalation themselves.

Escalations are grouped by category and answer (case, spacing and a final dot folded) over the
90 days up to the end of the range. The score is in developer minutes: escalations × the mean
developer minutes of those that have time logged, the developer time the tool would have saved.
An answer naming a tool that already exists (a task or runbook, by name or title) is never ranked
as missing: it is listed apart, as "refused too often" when at least REFUSED_TOO_OFTEN of its
runs in the window were refused, rejected or failed, and as "used too rarely" otherwise.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from flask import current_app, has_app_context
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from console.deflection.metrics import StatsFilter, in_range, matching, previous
from console.deflection.models import ESCALATION_CLASSES, EventRollup, TicketRollup

OPPORTUNITY_DAYS = 90
NO_ANSWER = "(no answer)"
SCORE_UNIT = "developer minutes"
SCORE_EXPLANATION = ("Score = escalations × mean developer minutes per escalation: the developer minutes "
                     "the tool would have saved over the 90 days.")
REFUSED_TOO_OFTEN = 0.25
USED_TOO_RARELY = "used too rarely"
REFUSED = "refused too often"
SUGGESTED_ANSWERS = 40


def fold(answer: str) -> str:
    """An answer as it is grouped and matched: spacing collapsed, final dot dropped, case folded."""
    return " ".join((answer or "").split()).rstrip(".").casefold()


def existing_tools() -> dict[str, dict]:
    """Every tool agents already have, by its folded name and by its folded title."""
    tools: dict[str, dict] = {}
    if not has_app_context():
        return tools
    library = current_app.extensions.get("runbooks")
    for runbook in (library.all() if library is not None else ()):
        tool = {"kind": "runbook", "name": runbook.slug, "title": runbook.title}
        tools.setdefault(fold(runbook.slug), tool)
        tools.setdefault(fold(runbook.title), tool)
    registry = current_app.extensions.get("task_registry")
    for spec in (registry if registry is not None else ()):
        tool = {"kind": "task", "name": spec.name, "title": spec.title}
        tools[fold(spec.name)] = tool
        tools[fold(spec.title)] = tool
    return tools


def _trend(now: int, before: int) -> dict:
    if before == 0:
        return {"direction": "new" if now else "none", "change": None}
    change = round((now - before) / before, 4)
    direction = "up" if change > 0.1 else "down" if change < -0.1 else "steady"
    return {"direction": direction, "change": change}


def _groups(session: Session, window: StatsFilter) -> dict[tuple, dict]:
    earlier = previous(window)
    recent_rows = in_range(TicketRollup, window.start, window.end)
    recent = case((recent_rows, 1), else_=0)
    query = (select(TicketRollup.category, TicketRollup.missing_tool, TicketRollup.escalation_class, recent,
                    func.sum(TicketRollup.tickets), func.sum(TicketRollup.dev_minutes), func.sum(TicketRollup.timed))
             .where(TicketRollup.outcome == "escalated",
                    or_(recent_rows, in_range(TicketRollup, earlier.start, earlier.end)),
                    *matching(TicketRollup, window, dated=False))
             .group_by(TicketRollup.category, TicketRollup.missing_tool, TicketRollup.escalation_class, recent))
    groups: dict[tuple, dict] = {}
    for category, missing_tool, escalation_class, is_recent, tickets, minutes, timed in session.execute(query):
        answer = " ".join((missing_tool or "").split()).rstrip(".")
        group = groups.setdefault((category, fold(answer)), {
            "category": category, "answers": Counter(), "escalations": 0, "previous_escalations": 0,
            "minutes": 0, "timed": 0, "classes": Counter()})
        if not is_recent:
            group["previous_escalations"] += int(tickets or 0)
            continue
        group["answers"][answer] += int(tickets or 0)
        group["escalations"] += int(tickets or 0)
        group["minutes"] += int(minutes or 0)
        group["timed"] += int(timed or 0)
        group["classes"][escalation_class] += int(tickets or 0)
    return groups


def _refusal_shares(session: Session, window: StatsFilter, tasks: set[str]) -> dict[str, tuple[int, float]]:
    """(runs, share refused, rejected or failed) of each task in the window, single runs and bulk items."""
    if not tasks:
        return {}
    query = (select(EventRollup.subject, EventRollup.status, func.sum(EventRollup.events))
             .where(EventRollup.kind.in_(("task_run", "bulk_item")), EventRollup.subject.in_(sorted(tasks)),
                    *matching(EventRollup, window))
             .group_by(EventRollup.subject, EventRollup.status))
    runs: Counter = Counter()
    refused: Counter = Counter()
    for task, status, events in session.execute(query):
        runs[task] += int(events or 0)
        if status in ("refused", "rejected", "failed"):
            refused[task] += int(events or 0)
    return {task: (runs[task], refused[task] / runs[task] if runs[task] else 0.0) for task in tasks}


def ranking(session: Session, stats_filter: StatsFilter, *, days: int = OPPORTUNITY_DAYS, limit: int = 20) -> dict:
    """{"rows": the missing tools best first, "existing": answers naming a tool that exists, with a verdict}."""
    window = StatsFilter(stats_filter.end - timedelta(days=days - 1), stats_filter.end,
                         stats_filter.category, stats_filter.team)
    tools = existing_tools()
    rows, existing = [], []
    for (_category, folded), group in _groups(session, window).items():
        if not group["escalations"]:
            continue
        mean = group["minutes"] / group["timed"] if group["timed"] else 0.0
        answer = group["answers"].most_common(1)[0][0]
        row = {"category": group["category"], "missing_tool": answer or NO_ANSWER,
               "escalations": group["escalations"], "mean_dev_minutes": round(mean, 1),
               "score": round(group["escalations"] * mean, 1),
               "classes": {name: group["classes"].get(name, 0) for name in ESCALATION_CLASSES},
               "previous_escalations": group["previous_escalations"],
               "trend": _trend(group["escalations"], group["previous_escalations"]),
               "from": window.start.isoformat(), "to": window.end.isoformat()}
        tool = tools.get(folded) if folded else None
        if tool is None:
            rows.append(row)
        else:
            existing.append(row | {"tool": tool})
    shares = _refusal_shares(session, window, {row["tool"]["name"] for row in existing
                                               if row["tool"]["kind"] == "task"})
    for row in existing:
        uses, share = shares.get(row["tool"]["name"], (0, 0.0))
        row["tool"] = row["tool"] | {"runs": uses, "refused_share": round(share, 4),
                                     "verdict": REFUSED if uses and share >= REFUSED_TOO_OFTEN else USED_TOO_RARELY}
    order = lambda row: (-row["score"], -row["escalations"], row["category"], row["missing_tool"])  # noqa: E731
    return {"rows": sorted(rows, key=order)[:limit], "existing": sorted(existing, key=order)[:limit],
            "score_unit": SCORE_UNIT, "score_explanation": SCORE_EXPLANATION}


def opportunities(session: Session, stats_filter: StatsFilter, *, days: int = OPPORTUNITY_DAYS,
                  limit: int = 20) -> list[dict]:
    """The missing tools, best first (tools that exist are never among them)."""
    return ranking(session, stats_filter, days=days, limit=limit)["rows"]


def suggestions(session: Session, today: date, *, days: int = 365) -> list[str]:
    """What the escalation form offers for "which tool would have helped": the task catalogue's titles,
    then the answers agents gave most over the last `days` days (read from the weekly rollup)."""
    offered = dict.fromkeys(tool["title"] for tool in existing_tools().values() if tool["kind"] == "task")
    earlier = (select(TicketRollup.missing_tool)
               .where(TicketRollup.grain == "w", TicketRollup.day >= today - timedelta(days=days),
                      TicketRollup.outcome == "escalated", TicketRollup.missing_tool != "")
               .group_by(TicketRollup.missing_tool).order_by(func.sum(TicketRollup.tickets).desc())
               .limit(SUGGESTED_ANSWERS))
    folded = {fold(title) for title in offered}
    for (answer,) in session.execute(earlier):
        if fold(answer) not in folded:
            folded.add(fold(answer))
            offered[answer] = None
    return list(offered)
