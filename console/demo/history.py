"""Six months of believable ticket history for the demo, so the dashboard tells a story on first start.

The story is the product package's (DEMO_TICKETS: console.product.TicketStory): the problems its tickets
are about, the task that solves each and when it ships. Volume grows over the history, with a busy
season. Before a task ships, its tickets are escalated with a missing-tool answer and cost developer time;
afterwards most are deflected by the task, with a few refusals, failures, reopened tickets and false
deflections. Problems that never got a tool keep being escalated: they top the opportunity ranking.

Dates are relative to today (the story ends at midnight UTC), and everything else comes from
the seed, so a given seed on a given day always gives the same history. A second run adds nothing: the history is loaded
only when no demo ticket (reference DEMO-...) exists yet. Rows go in with
console.deflection.bulk, which derives facts and rollups as add_ticket_event does.
"""
from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from flask import Flask
from sqlalchemy import func, select
from tqdm import tqdm

from console.db import console_session, utcnow
from console.deflection.bulk import insert_history
from console.deflection.insights import task_titles
from console.demo.team import load_team_records
from console.deflection.models import Ticket
from console.deflection.rotation import duty_on, rotation
from console.product.story import Problem, TicketStory

REF_PREFIX = "DEMO-"
AGENTS = {"support": ("agent@example.com", "agent2@example.com", "lead@example.com"),
          "night-shift": ("lead2@example.com", "agent2@example.com")}
WEEKDAY_FACTOR = (1.25, 1.15, 1.05, 1.0, 0.95, 0.45, 0.35)


def load_history(app: Flask, *, seed: int, history_days: int, progress: bool = False) -> list[str]:
    """Load `history_days` of ticket history once; return report lines."""
    ticket_story = app.extensions["product"].ticket_story
    if ticket_story is None:
        return ["Ticket history: none (the product package tells no demo story: DEMO_TICKETS)"]
    session = console_session()
    existing = session.scalar(select(func.count(Ticket.id)).where(Ticket.ref.like(REF_PREFIX + "%")))
    if existing:
        return [f"Ticket history: already loaded ({existing} demo tickets)"]
    if history_days <= 0:
        return ["Ticket history: none requested"]

    # The story ends at midnight (UTC) this morning, so a seed gives the same history all day long.
    midnight = datetime.combine(utcnow().date(), time.min)
    story = HistoryWriter(ticket_story, seed, history_days, midnight, rotation(session, app.config), app.config)
    days = tqdm(story.by_day(), total=history_days + 1, unit="day", desc="ticket history", disable=not progress,
                file=sys.stderr)
    tickets = [ticket for day in days for ticket in day]
    events = insert_history(session, tickets, actor="demo-data")
    team = load_team_records(session, today=midnight.date(), history_days=history_days,
                             sprint_days=int(app.config.get("SPRINT_DAYS") or 14), seed=seed)
    session.commit()
    return [f"Ticket history: {len(tickets)} tickets and {events} events over {history_days} days"] + team


class HistoryWriter:
    """Builds the tickets and their events, day by day, from one seeded random generator."""

    def __init__(self, story: TicketStory, seed: int, days: int, now: datetime, developers: list[str], config, *,
                 scale: float = 1.0):
        self.story = story
        self.rng = random.Random(f"history-{seed}")
        self.scale = scale  # tickets per day, as a multiple of the demo's (the benchmark uses ~55)
        self.count = 0
        self.days = days
        self.now = now
        self.start = now.date() - timedelta(days=days)
        self.developers = developers
        self.config = config
        self.titles = task_titles()  # empty outside an app: the bench's generator then names tasks as they are
        self.tickets: list[dict] = []

    def generate(self) -> list[dict]:
        """Tickets as column values, each with its events (oldest first) under "events"."""
        return [ticket for day in self.by_day() for ticket in day]

    def by_day(self) -> Iterator[list[dict]]:
        """The tickets opened on each day, one day at a time (bulk loads stay small in memory)."""
        for offset in range(self.days + 1):
            day = self.start + timedelta(days=offset)
            share = offset / self.days
            volume = (18 + 16 * share) * WEEKDAY_FACTOR[day.weekday()] * (1.25 if 0.6 <= share <= 0.8 else 1)
            volume *= self.scale
            self.tickets = []
            for _ in range(max(0, round(self.rng.gauss(volume, math.sqrt(volume))))):
                self._ticket(day, share, self._pick(share))
            yield self.tickets

    def _pick(self, share: float) -> Problem:
        season = 0.6 <= share <= 0.8
        problems = self.story.problems
        weights = [p.weight * (p.season if season else 1) + p.growth * share for p in problems]
        return self.rng.choices(problems, weights)[0]

    def _ticket(self, day: date, share: float, problem: Problem) -> None:
        rng = self.rng
        team = "support" if rng.random() < 0.75 else "night-shift"
        agent = rng.choice(AGENTS[team])
        opened = datetime.combine(day, time(7)) + timedelta(minutes=rng.randint(0, 11 * 60))
        if opened > self.now:
            return
        self.count += 1
        ticket = {"ref": f"{REF_PREFIX}{self.count + 10000}", "team": team, "created_at": opened, "events": []}
        self.tickets.append(ticket)
        clock = [opened]

        def add(kind: str, minutes_later: float, **fields) -> bool:
            clock[0] += timedelta(minutes=minutes_later)
            if clock[0] > self.now:
                return False  # the story of this ticket has not happened yet
            ticket["events"].append(SimpleNamespace(kind=kind, created_at=clock[0], actor=fields.pop("actor", agent),
                                                    **_blank_event() | fields))
            return True

        shipped = problem.task is not None and share >= problem.ships
        if problem.runbook and rng.random() < (0.55 if shipped else 0.8):
            add("runbook_viewed", rng.uniform(1, 6), runbook=problem.runbook)
        if shipped:
            self._with_tool(ticket, problem, add)
        elif rng.random() < (0.18 if problem.escalation_class == "knowledge" else 0.08) and problem.runbook:
            add("resolved", rng.uniform(5, 30), category=problem.category)
        else:
            self._escalate(problem, add)

    def _with_tool(self, ticket: dict, problem: Problem, add) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.07:
            add("task_run", rng.uniform(2, 8), task=problem.task, run_status="refused")
            if rng.random() < 0.5:
                add("resolved", rng.uniform(5, 20), category=problem.category)
            else:
                self._escalate(problem, add, why="the task was refused")
            return
        if roll < 0.09:
            add("task_run", rng.uniform(2, 8), task=problem.task, run_status="failed")
            self._escalate(problem, add, why="the task failed")
            return
        if problem.approval and rng.random() < 0.04:
            add("task_run", rng.uniform(2, 8), task=problem.task, run_status="rejected")
        if not add("task_run", rng.uniform(2, 8), task=problem.task, run_status="succeeded"):
            return
        if not add("resolved", rng.uniform(1, 10), category=problem.category):
            return
        follow_up = rng.random()
        if follow_up < 0.045:  # a false deflection: the customer comes back and it needs a developer
            add("reopened", rng.uniform(600, 4000), note="the customer wrote back: the problem is still there")
            self._escalate(problem, add, why="the task did not settle it")
        elif follow_up < 0.075:
            if add("reopened", rng.uniform(600, 4000), note="the customer wrote back"):
                add("resolved", rng.uniform(10, 120), category=problem.category, note="explained the next steps")

    def _escalate(self, problem: Problem, add, why: str = "") -> None:
        rng = self.rng
        escalation_class = problem.escalation_class
        if rng.random() < 0.15:
            escalation_class = rng.choice(("knowledge", "small_change", "specialist"))
        # Agents pick from the escalation form's suggestions, which start with the task catalogue's titles. A task
        # that ships later is named by its title even before: it was built, and titled, as they asked for it. The
        # ranking then lists it apart, as a tool that exists, and ranks only the tools still missing.
        missing = self.titles.get(problem.task, problem.task) if problem.task else problem.missing_tool
        if not add("escalated", rng.uniform(5, 40), escalation_class=escalation_class, category=problem.category,
                   missing_tool=missing, note=f"Checked the customer and the order; {why or 'no runbook covers it'}."):
            return
        escalation = self.tickets[-1]["events"][-1]
        duty = duty_on(None, escalation.created_at, self.config, developers=self.developers)
        escalation.assignee = duty.developer if duty else ""
        developer = escalation.assignee or "dev@example.com"
        minutes = max(5, round(rng.lognormvariate(math.log(problem.dev_minutes), 0.45)))
        if not add("dev_time", rng.uniform(60, 2880), actor=developer, minutes=minutes,
                   note="Looked into it and fixed it."):
            return
        if escalation_class != "knowledge" and self.story.root_causes and rng.random() < 0.3:
            add("root_cause", 1, actor=developer, note=rng.choice(self.story.root_causes))
        add("resolved", 2, actor=developer, note="escalation closed by the developer")


def _blank_event() -> dict:
    return {"task": "", "run_id": None, "run_status": "", "undo_of": None, "runbook": "", "escalation_class": "",
            "category": "", "missing_tool": "", "assignee": "", "note": "", "minutes": 0}
