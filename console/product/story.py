"""A product's demo ticket story: the kinds of tickets its support gets, for `demo-data`'s history.

The demo's dashboard needs months of tickets that tell a believable story: which problems come in, which
task solves each and when it shipped, what an escalation costs. Those are the product's, so its package
declares them (`DEMO_TICKETS = TicketStory(...)`); console.demo.history makes the tickets from them.
"""
from __future__ import annotations

from dataclasses import dataclass

from console.product.declare import ProductError

ESCALATION_CLASSES = ("knowledge", "small_change", "specialist")


@dataclass(frozen=True)
class Problem:
    """A kind of ticket: where it is filed, what solves it, and what it costs when escalated."""

    category: str
    runbook: str  # the runbook agents read for it ("" for none)
    task: str | None  # the task that solves it, once shipped
    ships: float  # when the task ships, as a share of the history (0 = before it starts; above 1 = never)
    missing_tool: str  # what agents ask for while no task solves it; with a task, they name it by its title
    escalation_class: str
    dev_minutes: int  # what an escalation costs a developer, typically
    weight: float  # how often it comes in, against the others
    season: float = 1.0  # extra weight in the holiday season
    growth: float = 0.0  # extra weight by the end of the history
    approval: bool = False  # the task's runs are sometimes rejected by a lead first

    def __post_init__(self):
        if self.escalation_class not in ESCALATION_CLASSES:
            raise ProductError("", "DEMO_TICKETS", f"problem {self.category!r}: escalation_class is one of "
                                                   f"{', '.join(ESCALATION_CLASSES)}")
        if not (self.task or self.missing_tool):
            raise ProductError("", "DEMO_TICKETS", f"problem {self.category!r}: give the task that solves it or "
                                                   "the missing_tool agents ask for")
        if self.weight <= 0 or self.dev_minutes <= 0:
            raise ProductError("", "DEMO_TICKETS", f"problem {self.category!r}: weight and dev_minutes are above 0")


@dataclass(frozen=True)
class TicketStory:
    """The problems a product's tickets are about, and the root causes developers write down for some."""

    problems: tuple[Problem, ...]
    root_causes: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "problems", tuple(self.problems))
        object.__setattr__(self, "root_causes", tuple(self.root_causes))
        if not self.problems or not all(isinstance(p, Problem) for p in self.problems):
            raise ProductError("", "DEMO_TICKETS", "expected TicketStory(problems=[Problem(...), ...])")
        if not all(isinstance(cause, str) and cause.strip() for cause in self.root_causes):
            raise ProductError("", "DEMO_TICKETS", "root_causes are texts")
