"""`runbooks check`: find what is wrong in runbook files before an agent does.

Errors: broken front matter, a missing or malformed field, an unknown task or task
parameter, an unknown placeholder, unsafe HTML or links, and internal links to a runbook or
heading that does not exist. Warnings: a review older than 180 days, unknown fields.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from pathlib import Path

from console.runbooks.loader import Runbook, load_runbooks
from console.runbooks.render import PLACEHOLDERS, RESERVED_TASK_PARAMS, RenderedRunbook, TaskLink, render_markdown

REVIEW_MAX_AGE_DAYS = 180


@dataclass(frozen=True)
class Problem:
    """One finding of `runbooks check`."""

    file: str
    line: int
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


def has_errors(problems: Collection[Problem]) -> bool:
    return any(problem.severity == "error" for problem in problems)


def check_runbooks(
    directory: str | Path,
    known_tasks: Mapping[str, Collection[str]],
    *,
    today: date | None = None,
) -> list[Problem]:
    """Check every runbook in a directory against the known tasks and their parameters."""
    directory = Path(directory)
    if not directory.is_dir():
        return [Problem(str(directory), 0, "error", "runbooks directory not found")]
    runbooks = load_runbooks(directory)
    rendered = {runbook.slug: render_markdown(runbook.body, slug=runbook.slug) for runbook in runbooks}
    anchors = {slug: {heading.anchor for heading in page.headings} for slug, page in rendered.items()}
    today = today or date.today()
    problems: list[Problem] = []
    for runbook in runbooks:
        problems.extend(_check_one(runbook, rendered[runbook.slug], known_tasks, anchors, today))
    return sorted(problems, key=lambda problem: (problem.file, problem.line, problem.severity, problem.message))


def _check_one(
    runbook: Runbook,
    page: RenderedRunbook,
    known_tasks: Mapping[str, Collection[str]],
    anchors: Mapping[str, set[str]],
    today: date,
) -> list[Problem]:
    file = str(runbook.path)
    found = [Problem(file, p.line, p.severity, p.message) for p in runbook.problems]

    def error(line: int, message: str) -> None:
        found.append(Problem(file, line, "error", message))

    def body_line(line: int) -> int:
        return runbook.body_line + line - 1

    for task in runbook.tasks:
        if task not in known_tasks:
            error(runbook.task_lines.get(task, runbook.field_lines.get("tasks", 1)),
                  f"unknown task {task!r} in 'tasks'{_suggest(task, known_tasks)}")

    if runbook.reviewed is not None and "reviewed" in runbook.field_lines:
        age = (today - runbook.reviewed).days
        line = runbook.field_lines["reviewed"]
        if age > REVIEW_MAX_AGE_DAYS:
            found.append(Problem(file, line, "warning", f"last reviewed {age} days ago ({runbook.reviewed}); "
                                                       f"review it at least every {REVIEW_MAX_AGE_DAYS} days"))
        elif age < 0:
            found.append(Problem(file, line, "warning", f"'reviewed' is in the future ({runbook.reviewed})"))

    if runbook.body.strip() == "" and not runbook.has_error:
        found.append(Problem(file, runbook.body_line, "warning", "the runbook has no body"))

    for link in page.task_links:
        for message in _task_link_errors(link, runbook, known_tasks):
            error(body_line(link.line), message)

    for unsafe in page.unsafe:
        error(body_line(unsafe.line), unsafe.message)

    for link in page.runbook_links:
        slug = runbook.slug if link.slug is None else link.slug
        if slug not in anchors:
            error(body_line(link.line), f"broken link {link.target!r}: there is no runbook {slug!r}")
        elif link.anchor and link.anchor not in anchors[slug]:
            error(body_line(link.line), f"broken link {link.target!r}: runbook {slug!r} has no heading "
                                        f"with the anchor #{link.anchor}")
    return found


def _task_link_errors(link: TaskLink, runbook: Runbook, known_tasks: Mapping[str, Collection[str]]) -> list[str]:
    where = f"task link [{link.label}]"
    if not link.task:
        return [f"{where} names no task: write task:<name>?<param>=<value>"]
    if link.task not in known_tasks:
        return [f"{where}: unknown task {link.task!r}{_suggest(link.task, known_tasks)}"]
    messages = []
    if link.task not in runbook.tasks:
        messages.append(f"{where}: task {link.task!r} is not listed in the front matter's 'tasks'")
    allowed = set(known_tasks[link.task]) | set(RESERVED_TASK_PARAMS)
    for name, _value in link.params:
        if name not in allowed:
            messages.append(f"{where}: task {link.task!r} has no parameter {name!r}; "
                            f"its parameters are: {', '.join(sorted(known_tasks[link.task])) or 'none'}")
    for placeholder in sorted(link.placeholders()):
        if placeholder.strip() not in PLACEHOLDERS:
            messages.append(f"{where}: unknown placeholder {{{placeholder}}}; known: "
                            + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS))
    return messages


def _suggest(name: str, known: Collection[str]) -> str:
    close = get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
