"""`support-console runbooks ...`: check the runbook files."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import ScriptInfo

from console.runbooks.lint import check_runbooks, has_errors
from console.runbooks.loader import runbook_files
from console.tasks.registry import TaskDefinitionError, discover


@click.group("runbooks")
def group():
    """Work with the runbooks in RUNBOOKS_DIR."""


def known_tasks(registry) -> dict[str, set[str]]:
    """Every discovered task, disabled ones included, with its parameter names."""
    return {spec.name: {param.name for param in spec.params} for spec in registry.all_specs()}


@group.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The runbooks folder (default: RUNBOOKS_DIR, else the shipped runbooks).")
def check(directory: Path | None):
    """Check every runbook; exit 1 when any has an error (warnings alone pass)."""
    app = click.get_current_context().find_object(ScriptInfo).load_app()
    directory = directory or Path(app.config["RUNBOOKS_DIR"])
    registry = app.extensions.get("task_registry")
    if registry is None:
        try:
            registry = discover(app.config["TASK_PACKAGES"])
        except TaskDefinitionError as exc:
            raise click.ClickException(f"cannot load the tasks to check against: {exc}") from None
    problems = check_runbooks(directory, known_tasks(registry))
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    checked = len(runbook_files(directory))
    errors = sum(problem.severity == "error" for problem in problems)
    warnings = len(problems) - errors
    click.echo(f"{checked} runbook{'s' if checked != 1 else ''} checked in {directory}: "
               f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
    if has_errors(problems):
        raise SystemExit(1)
