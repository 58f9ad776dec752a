"""Read `runbooks/*.md`: YAML front matter plus a Markdown body.

A broken file never stops loading: it becomes a `Runbook` carrying its errors (with file
line numbers), so the list still shows it and the page can say "this runbook has an error".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

REQUIRED_FIELDS = ("title", "category", "symptoms", "tasks", "owner", "reviewed")
OPTIONAL_FIELDS = ("escalate_to",)
ESCALATION_CLASSES = ("knowledge", "small_change", "specialist")
ESCALATION_FIELDS = ("class", "team")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER_FENCE = "---"
FRONT_MATTER_END = ("---", "...")
# libyaml's loader is the same safe loader, several times faster; PyYAML may be built without it.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class RunbookProblem:
    """One thing wrong with a runbook file, at a 1-based line of that file."""

    line: int
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class Escalation:
    """Where a ticket goes when the runbook does not solve it."""

    escalation_class: str
    team: str | None = None


@dataclass
class Runbook:
    """A runbook as loaded from its file; check `errors` before trusting its fields."""

    slug: str
    path: Path
    title: str
    category: str = ""
    symptoms: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    owner: str = ""
    reviewed: date | None = None
    escalate_to: Escalation | None = None
    body: str = ""
    body_line: int = 1  # file line of the body's first line, to map Markdown lines back to the file
    problems: tuple[RunbookProblem, ...] = ()
    field_lines: dict[str, int] = field(default_factory=dict)
    task_lines: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[RunbookProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def has_error(self) -> bool:
        return bool(self.errors)

    @property
    def error_summary(self) -> str:
        """Describe the first error as `file:line: message`, or '' when there is none."""
        if not self.errors:
            return ""
        first = self.errors[0]
        return f"{self.path.name}:{first.line}: {first.message}"


def is_runbook_file(name: str) -> bool:
    """Tell runbooks from the folder's own notes: README.md and `_*.md` are not runbooks."""
    return name.endswith(".md") and not name.startswith("_") and name.lower() != "readme.md"


def runbook_files(directory: str | Path) -> list[Path]:
    """The runbook files of a folder, sorted; a missing folder has none."""
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(path for path in root.glob("*.md") if is_runbook_file(path.name) and path.is_file())


def load_runbooks(directory: str | Path) -> list[Runbook]:
    """Load every runbook file in a directory, sorted by file name."""
    return [load_runbook(path) for path in runbook_files(directory)]


def load_runbook(path: str | Path) -> Runbook:
    """Load one runbook file, turning every defect into a recorded problem."""
    path = Path(path)
    slug = path.stem
    problems: list[RunbookProblem] = []
    if not SLUG_PATTERN.match(slug):
        problems.append(RunbookProblem(
            1, f"file name {path.name!r} must be lower-case letters, digits and hyphens, ending in .md"
        ))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(RunbookProblem(1, f"cannot read the file: {exc}"))
        return Runbook(slug=slug, path=path, title=slug, problems=tuple(problems))
    return parse_runbook(text, path=path, slug=slug, problems=problems)


def parse_runbook(text: str, *, path: Path, slug: str, problems: list[RunbookProblem] | None = None) -> Runbook:
    """Parse runbook text (front matter and body) into a `Runbook`."""
    problems = list(problems or [])
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        problems.append(RunbookProblem(1, "no front matter: the file must start with a line '---'"))
        return Runbook(slug=slug, path=path, title=slug, body=text, problems=tuple(problems))
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in FRONT_MATTER_END), None)
    if end is None:
        problems.append(RunbookProblem(1, "front matter is not closed: add a line '---' after it"))
        return Runbook(slug=slug, path=path, title=slug, problems=tuple(problems))
    body = "".join(lines[end + 1:])
    runbook = Runbook(slug=slug, path=path, title=slug, body=body, body_line=end + 2)
    # YAML marks count from the line after the opening fence.
    _read_front_matter(runbook, "".join(lines[1:end]), first_line=2, problems=problems)
    runbook.problems = tuple(problems)
    return runbook


def _read_front_matter(runbook: Runbook, source: str, *, first_line: int, problems: list[RunbookProblem]) -> None:
    loader = SAFE_LOADER(source)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(RunbookProblem(line, f"front matter is not valid YAML: {reason}"))
        return
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(RunbookProblem(first_line, "front matter must be a mapping of fields (title: ..., category: ...)"))
        return

    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = first_line + key_node.start_mark.line
        if key in seen:
            problems.append(RunbookProblem(line, f"field {key!r} is given twice"))
        seen.add(key)
        runbook.field_lines[key] = line
        if key == "tasks" and isinstance(value_node, yaml.SequenceNode):
            for item in value_node.value:
                runbook.task_lines.setdefault(str(item.value), first_line + item.start_mark.line)
        if key not in REQUIRED_FIELDS and key not in OPTIONAL_FIELDS:
            problems.append(RunbookProblem(line, f"unknown field {key!r} (typo?); known fields: "
                                           f"{', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)}", "warning"))

    def line_of(name: str) -> int:
        return runbook.field_lines.get(name, first_line)

    def fail(name: str, message: str) -> None:
        problems.append(RunbookProblem(line_of(name), message))

    for name in REQUIRED_FIELDS:
        if name not in data or data[name] is None:
            fail(name, f"missing required field {name!r}")

    for name in ("title", "category", "owner"):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            fail(name, f"{name!r} must be non-empty text")
        else:
            setattr(runbook, name, value.strip())

    runbook.symptoms = _text_list(data, "symptoms", fail, allow_empty=False)
    runbook.tasks = _text_list(data, "tasks", fail, allow_empty=True)
    runbook.reviewed = _review_date(data.get("reviewed"), fail)
    runbook.escalate_to = _escalation(data.get("escalate_to"), fail)


def _text_list(data: dict, name: str, fail, *, allow_empty: bool) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        fail(name, f"{name!r} must be a list of non-empty text items")
        return ()
    if not value and not allow_empty:
        fail(name, f"{name!r} must list at least one item")
    return tuple(dict.fromkeys(item.strip() for item in value))


def _review_date(value, fail) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    fail("reviewed", f"'reviewed' must be a date like 2025-01-31, not {value!r}")
    return None


def _escalation(value, fail) -> Escalation | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        fail("escalate_to", "'escalate_to' must be a mapping with 'class' and 'team'")
        return None
    unknown = sorted(set(map(str, value)) - set(ESCALATION_FIELDS))
    if unknown:
        fail("escalate_to", f"'escalate_to' has unknown keys: {', '.join(unknown)}; allowed: class, team")
    escalation_class = value.get("class")
    if escalation_class not in ESCALATION_CLASSES:
        fail("escalate_to", f"'escalate_to.class' must be one of {', '.join(ESCALATION_CLASSES)}, "
                            f"not {escalation_class!r}")
        return None
    team = value.get("team")
    if team is not None and (not isinstance(team, str) or not team.strip()):
        fail("escalate_to", "'escalate_to.team' must be non-empty text")
        team = None
    return Escalation(escalation_class=escalation_class, team=team.strip() if team else None)
