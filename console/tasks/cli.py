"""`support-console tasks`: list, check, new and run. `run` takes the same runner as the web and the API."""
from __future__ import annotations

import importlib.util
import json
import keyword
import os
import re
from pathlib import Path
from string import Template

import click

NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
TEMPLATES = Path(__file__).resolve().parent / "templates_new"


@click.group("tasks")
def group():
    """List, check, create and run task plugins."""


def _app():
    """The app from the ScriptInfo that `support-console` (or a test's CLI runner) hands the command."""
    from flask.cli import ScriptInfo

    from console.tasks.spec import TaskDefinitionError

    try:
        return click.get_current_context().find_object(ScriptInfo).load_app()
    except TaskDefinitionError as exc:
        raise click.ClickException(f"{exc}\n(`support-console tasks check` lists every invalid plugin)") from None


def _packages() -> list[str]:
    from flask.cli import ScriptInfo

    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None and not info.data.get("environment"):  # a test's app, not one still to be made
        return list(info.load_app().config["TASK_PACKAGES"])
    return [item.strip() for item in os.environ.get("TASK_PACKAGES", "").split(",") if item.strip()] or ["admin_tasks"]


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as JSON (as GET /api/v1/tasks does).")
def list_tasks(as_json: bool):
    """List every discovered task (disabled ones are marked)."""
    from console.tasks.presenting import describe_task

    app = _app()
    registry = app.extensions["task_registry"]
    with app.app_context():
        specs = registry.all_specs()
        described = [dict(describe_task(spec), enabled=spec.name not in registry.disabled) for spec in specs]
    if as_json:
        click.echo(json.dumps({"tasks": described}, indent=2, sort_keys=True, default=str))
        return
    if not described:
        click.echo("No tasks found in " + ", ".join(app.config["TASK_PACKAGES"]) + ".")
        return
    width = max(len(task["name"]) for task in described)
    for task in described:
        state = "" if task["enabled"] else "  [disabled]"
        click.echo(f"{task['name']:<{width}}  {task['risk']:<6}  {task['category']}: {task['title']}{state}")


@group.command("check")
def check():
    """Check every plugin; exit 1 naming each invalid file and why."""
    from console.tasks.registry import check_packages

    packages = _packages()
    problems = check_packages(packages)
    for file, message in problems:
        click.echo(f"{file}: {message}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"OK: every task plugin in {', '.join(packages)} is valid.")


@group.command("new")
@click.argument("name")
@click.option("--category", default="custom", show_default=True,
              help="The folder under the task package, and the task's category (e.g. orders, accounts).")
@click.option("--title", default="", help="The task's title (default: from the name).")
def new(name: str, category: str, title: str):
    """Write a working plugin admin_tasks/<category>/NAME.py and tests/admin_tasks/<category>/test_NAME.py."""
    if not NAME.match(name) or keyword.iskeyword(name):
        raise click.BadParameter("use lower-case letters, digits and underscores, starting with a letter "
                                 "(at most 60 characters), e.g. reset_failed_logins", param_hint="NAME")
    app = _app()
    if name in {spec.name for spec in app.extensions["task_registry"].all_specs()}:
        raise click.ClickException(f"NAME: a task called {name!r} already exists; choose another name")
    plugin, test = write_task_files(name, category=category, title=title, package=app.config["TASK_PACKAGES"][0])
    click.echo(f"Wrote {plugin}")
    click.echo(f"Wrote {test}")
    click.echo(f"Next: edit the plugin, run `pytest {test}`, then `support-console tasks check`.")


def _slug(category: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", category.strip().lower()).strip("_")
    if not slug:
        raise click.BadParameter("give a category with letters or digits, e.g. orders", param_hint="--category")
    return slug if slug[0].isalpha() else f"c_{slug}"


def _package_dir(package: str) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise click.ClickException(f"TASK_PACKAGES: {package!r} is not an importable package")
    return Path(list(found.submodule_search_locations)[0])


def write_task_files(name: str, *, category: str, title: str, package: str) -> tuple[Path, Path]:
    """Write the plugin and its test from templates_new/; refuse to overwrite anything."""
    folder = _slug(category)
    label = category.strip().replace("_", " ")
    label = label[:1].upper() + label[1:]
    package_dir = _package_dir(package)
    plugin = package_dir / folder / f"{name}.py"
    clash = next(iter(sorted(package_dir.rglob(f"{name}.py"))), None)
    if clash is not None:
        raise click.ClickException(f"NAME: {clash} already exists; choose another name")
    tests_root = package_dir.parent / "tests"
    # Tests mirror the code: admin_tasks/orders/x.py is tested in tests/admin_tasks/orders/test_x.py.
    tests_package = (tests_root if tests_root.is_dir() else Path.cwd() / "tests") / package.rsplit(".", 1)[-1]
    test_dir = tests_package / folder
    test = test_dir / f"test_{name}.py"
    if test.exists():
        raise click.ClickException(f"NAME: {test} already exists; choose another name")
    title = " ".join("".join(ch for ch in title if ch.isprintable()).split()) or name.replace("_", " ").capitalize()
    values = {"name": name, "title_literal": json.dumps(title, ensure_ascii=False),
              "doc_title": title.replace('"', "'").replace("\\", "/"),
              "category_literal": json.dumps(label, ensure_ascii=False)}
    plugin_text = Template((TEMPLATES / "task.py.tmpl").read_text()).substitute(values)
    test_text = Template((TEMPLATES / "test_task.py.tmpl").read_text()).substitute(values)
    words = folder.replace("_", " ")
    for directory, doc in ((plugin.parent, f"Tasks: {words}."), (tests_package, f"Tests of the {package} plugins."),
                           (test_dir, f"Tests of the tasks: {words}.")):
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / "__init__.py").exists():
            (directory / "__init__.py").write_text(f'"""{doc}"""\n')
    plugin.write_text(plugin_text)
    try:
        test.write_text(test_text)
    except OSError:
        plugin.unlink()  # nothing half-written: a plugin without its test is not what was asked for
        raise
    return plugin, test


def _parse_params(pairs: tuple[str, ...]) -> dict:
    params: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        if key.strip() in params:
            raise click.BadParameter(f"{key.strip()!r} is given twice", param_hint="--param")
        params[key.strip()] = value
    return params


def _echo_preview(name: str, result) -> None:
    from console.tasks.views import change_tables

    approval = "needs a lead's approval" if result.needs_approval else "runs without approval"
    click.echo(f"Preview of {name} (risk {result.risk}; {approval})")
    if result.summary:
        click.echo(f"  {result.summary}")
    tables = change_tables(result.changes)
    if not tables:
        click.echo("  No rows change.")
    for table in tables:
        click.echo(f"  {table['table']} {table['key']} ({table['kind']})")
        for row in table["rows"]:
            if table["kind"] == "insert":
                click.echo(f"    {row['column']}: {row['after']!r}")
            elif row["changed"]:
                click.echo(f"    {row['column']}: {row['before']!r} -> {row['after']!r}")
    for effect in result.effects:
        click.echo(f"  afterwards: {effect}")


def _fail(exc) -> None:
    """Print the runner's refusal or error with each bad field, and exit non-zero."""
    if exc.run is not None:
        click.echo(f"Run {exc.run.id} {exc.run.status}.", err=True)
    click.echo(f"Error ({exc.code}): {exc.message}", err=True)
    for field, message in (exc.fields or {}).items():
        click.echo(f"  {field}: {message}", err=True)
    raise click.exceptions.Exit(2 if exc.status == 400 else 1)


@group.command("run")
@click.argument("name")
@click.option("--as", "as_email", required=True, help="The staff user the run is done as (their role applies).")
@click.option("--ticket", required=True, help="The helpdesk ticket reference.")
@click.option("--reason", required=True, help="Why; it goes into the audit trail.")
@click.option("--param", "pairs", multiple=True, metavar="KEY=VALUE", help="A task parameter; repeat for each.")
@click.option("--dry-run", is_flag=True, help="Only show the preview; change nothing.")
@click.option("--idempotency-key", default=None, help="Replays the first run instead of running twice.")
def run(name: str, as_email: str, ticket: str, reason: str, pairs: tuple[str, ...], dry_run: bool,
        idempotency_key: str | None):
    """Preview the task, then run it (audited, linked to the ticket). Exit 1 when refused, 2 when invalid."""
    from console.auth.services import find_user
    from console.db import console_session, expect_writes
    from console.tasks.runner import RunRequest, TaskError, preview, start_run

    params = _parse_params(pairs)
    app = _app()
    with app.app_context():
        expect_writes()  # beside a serving console on SQLite, wait for the write lock rather than fail
        user = find_user(console_session(), as_email)
        if user is None or not user.active:
            raise click.ClickException(f"--as: no active staff user {as_email}")
        request = RunRequest(task=name, params=params, ticket=ticket, reason=reason, actor=user,
                             idempotency_key=idempotency_key, source="cli")
        try:
            result = preview(request)
        except TaskError as exc:
            _fail(exc)
        _echo_preview(name, result)
        if dry_run:
            click.echo("Dry run: nothing was changed.")
            return
        confirmed = RunRequest(task=name, params=params, ticket=ticket, reason=reason, actor=user,
                               idempotency_key=idempotency_key, source="cli",
                               expected_preview_hash=result.preview_hash)
        try:
            done = start_run(confirmed)
        except TaskError as exc:
            _fail(exc)
        if done.status == "pending_approval":
            click.echo(f"Run {done.id} is waiting for approval by a lead (nothing changed yet).")
        else:
            click.echo(f"Run {done.id} {done.status}." + (f" {done.result}" if done.result else ""))
