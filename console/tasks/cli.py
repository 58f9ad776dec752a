"""`support-console tasks`: list, check, new and run. `run` takes the same runner as the web and the API."""
from __future__ import annotations

import json
import keyword
import os
import re

import click

from console.config import DEFAULT_PRODUCT_PACKAGE, ConfigError, default_task_packages
from console.jsontext import jsonable

NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@click.group("tasks")
def group():
    """List, check, create and run task plugins."""


def command_app():
    """The app from the ScriptInfo that `support-console` (or a test's CLI runner) hands the command."""
    from flask.cli import ScriptInfo

    from console.tasks.spec import TaskDefinitionError

    try:
        return click.get_current_context().find_object(ScriptInfo).load_app()
    except TaskDefinitionError as exc:
        raise click.ClickException(f"{exc}\n(`support-console tasks check` lists every invalid plugin)") from None


def _configured(option: str | None) -> tuple[str, list[str]]:
    """The product package and the task packages: the test runner's app's, else from the environment as the
    console reads them (console.config). No app is built, so that every broken plugin can be named."""
    from flask.cli import ScriptInfo

    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None and not info.data.get("environment"):  # a test's app, not one still to be made
        config = info.load_app().config
        return option or config["PRODUCT_PACKAGE"], list(config["TASK_PACKAGES"])
    product = option or os.environ.get("PRODUCT_PACKAGE", "").strip() or DEFAULT_PRODUCT_PACKAGE
    configured = [item.strip() for item in os.environ.get("TASK_PACKAGES", "").split(",") if item.strip()]
    return product, configured or default_task_packages(product)


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as JSON (as GET /api/v1/tasks does).")
def list_tasks(as_json: bool):
    """List every discovered task (disabled ones are marked)."""
    from console.tasks.presenting import describe_task

    app = command_app()
    registry = app.extensions["task_registry"]
    with app.app_context():
        specs = registry.all_specs()
        described = [dict(describe_task(spec), enabled=spec.name not in registry.disabled) for spec in specs]
    if as_json:
        click.echo(json.dumps(jsonable({"tasks": described}), indent=2, sort_keys=True))
        return
    if not described:
        click.echo("No tasks found in " + ", ".join(app.config["TASK_PACKAGES"]) + ".")
        return
    width = max(len(task["name"]) for task in described)
    for task in described:
        state = "" if task["enabled"] else "  [disabled]"
        click.echo(f"{task['name']:<{width}}  {task['risk']:<6}  {task['category']}: {task['title']}{state}")


@group.command("check")
@click.option("--product", "product_name", default=None,
              help="The product package the tasks must fit (default: PRODUCT_PACKAGE, else the demo shop).")
def check(product_name: str | None):
    """Check every plugin, and that each fits the product package; exit 1 naming each invalid file and why."""
    from console.product.loading import load_product
    from console.tasks.registry import check_packages

    name, packages = _configured(product_name)
    try:
        product = load_product(name)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    problems = check_packages(packages, product)
    for file, message in problems:
        click.echo(f"{file}: {message}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"OK: every task plugin in {', '.join(packages)} is valid and fits {name}.")


@group.command("new")
@click.argument("name")
@click.option("--category", default="custom", show_default=True,
              help="The folder under the task package, and the task's category (e.g. orders, accounts).")
@click.option("--title", default="", help="The task's title (default: from the name).")
@click.option("--record", "record", default=None,
              help="The record of the product package the task is offered on (default: its first record).")
@click.option("--column", "column", default=None, help="The column the first version sets (default: a status-like "
                                                        "one, else the first plain column).")
def new(name: str, category: str, title: str, record: str | None, column: str | None):
    """Write a plugin <task package>/<category>/NAME.py named for the task, and its passing test."""
    from console.db import databases, utcnow
    from console.tasks.scaffold import ScaffoldError, scaffold_values, write_task_files

    if not NAME.match(name) or keyword.iskeyword(name):
        raise click.BadParameter("use lower-case letters, digits and underscores, starting with a letter "
                                 "(at most 60 characters), e.g. extend_trial", param_hint="NAME")
    folder = _slug(category)
    app = command_app()
    if name in {spec.name for spec in app.extensions["task_registry"].all_specs()}:
        raise click.ClickException(f"NAME: a task called {name!r} already exists; choose another name")
    title = " ".join("".join(ch for ch in title if ch.isprintable()).split()) or name.replace("_", " ").capitalize()
    label = category.strip().replace("_", " ")
    try:
        values = scaffold_values(app.extensions["product"], databases(app).target_engine, name=name, title=title,
                                 record_name=record, column_name=column, now=utcnow())
        plugin, test = write_task_files(values, folder=folder, label=label[:1].upper() + label[1:],
                                        package=app.config["TASK_PACKAGES"][0])
    except ScaffoldError as exc:
        raise click.ClickException(f"{exc.field}: {exc}") from None
    click.echo(f"Wrote {plugin}")
    click.echo(f"Wrote {test}")
    click.echo(f"Next: change both into your task, run `pytest {test}`, then `support-console tasks check`.")


def _slug(category: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", category.strip().lower()).strip("_")
    if not slug:
        raise click.BadParameter("give a category with letters or digits, e.g. orders", param_hint="--category")
    return slug if slug[0].isalpha() else f"c_{slug}"


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
    from console.tasks.presenting import change_tables, currency_of, find_task, shown_params

    spec = find_task(name)
    approval = "needs a lead's approval" if result.needs_approval else "runs without approval"
    click.echo(f"Preview of {name} (risk {result.risk}; {approval})")
    if result.summary:
        click.echo(f"  {result.summary}")
    for label, value in shown_params(spec, result.params):  # money in its units: "Amount to refund: EUR 30.00"
        click.echo(f"  {label}: {value}")
    tables = change_tables(result.changes, currency=currency_of(spec))
    if not tables:
        click.echo("  No rows change.")
    for table in tables:
        click.echo(f"  {table['table']} {table['key']} ({table['kind']})")
        for row in table["rows"]:
            if table["kind"] == "insert":
                click.echo(f"    {row['column']}: {row['after_text']!r}")
            elif row["changed"]:
                click.echo(f"    {row['column']}: {row['before_text']!r} -> {row['after_text']!r}")
    for effect in result.effects:
        click.echo(f"  afterwards: {effect}")


def exit_with_error(exc) -> None:
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
    from console.auth.services import acting_user
    from console.db import console_session, expect_writes
    from console.tasks.runner import RunRequest, TaskError, preview, start_run

    params = _parse_params(pairs)
    app = command_app()
    with app.app_context():
        expect_writes()  # beside a serving console on SQLite, wait for the write lock rather than fail
        user = acting_user(console_session().connection(), as_email)
        if user is None or not user.active:
            raise click.ClickException(f"--as: no active staff user {as_email}")
        request = RunRequest(task=name, params=params, ticket=ticket, reason=reason, actor=user,
                             idempotency_key=idempotency_key, source="cli")
        try:
            result = preview(request)
        except TaskError as exc:
            exit_with_error(exc)
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
            exit_with_error(exc)
        if done.status == "pending_approval":
            click.echo(f"Run {done.id} is waiting for approval by a lead (nothing changed yet).")
        else:
            click.echo(f"Run {done.id} {done.status}." + (f" {done.result}" if done.result else ""))
