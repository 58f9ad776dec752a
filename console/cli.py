"""The `support-console` command: the top of the house.

Its own commands set the console up and serve it; every domain of `console.DOMAINS` that has a
`cli.py` adds its command group. A domain's commands load their app through Flask's ScriptInfo
(`flask.cli.with_appcontext`), which `main` hands them, so no domain imports this module.
"""
from __future__ import annotations

import secrets
import sys
from contextlib import contextmanager
from importlib import import_module
from importlib.util import find_spec

import click
from flask.cli import ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from console import DOMAINS, create_app, serving
from console.audit.checkpoints import policy_from_config
from console.audit.keeper import CheckpointKeeper
from console.bulk.queue import start_bulk_thread
from console.auth.services import AccountError, create_token, create_user, find_user, update_account
from console.config import ConfigError
from console.db import console_session, expect_writes
from console.deflection.digest import start_digest_keeper
from console.demo import demo_banner, load_demo
from console.engines import database_error_text
from console.migrations import console_schema_problem, create_target_schema, upgrade_console
from console.permissions import role_title
from console.startup import check_start_up as check
from console.webhooks.sender import start_webhook_sender


def make_app(*, demo: bool = False, strict: bool = False):
    """Create the app for a command; a configuration problem is one clear line, not a traceback."""
    try:
        return create_app({"DEMO": True} if demo else None, instance_secrets=not strict)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def check_start_up(app) -> None:
    """The start-up check of `init`, `serve` and `demo` (console.startup), as one clear line."""
    try:
        check(app)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def domain_app(ctx: click.Context) -> ScriptInfo:
    """Where a domain's command finds its app: made from the environment at its first ask, closed with the
    command. A test's `app.test_cli_runner()` hands its own ScriptInfo instead. `data["environment"]` says
    that no app is made yet, for a command that can do without one (`tasks check` of broken plugins)."""

    def load():
        app = make_app()
        ctx.call_on_close(app.extensions["console_db"].dispose)
        return app

    info = ScriptInfo(create_app=load, set_debug_flag=False)
    info.data["environment"] = True
    return info


class ConsoleGroup(click.Group):
    """The top group: a database error that stops any command is one line saying what to do, not a traceback
    with its SQL. Most often the command ran before `support-console init`: then that is the line, also for a
    command that put the error in words of its own (a ClickException raised from it)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            raise click.ClickException(_schema_problem(ctx) or
                                       f"a database refused the command ({database_error_text(exc)})") from None
        except click.ClickException as exc:
            problem = _schema_problem(ctx) if isinstance(exc.__cause__, SQLAlchemyError) else None
            if problem:
                raise click.ClickException(problem) from None
            raise


def _schema_problem(ctx: click.Context) -> str | None:
    app = ctx.obj.load_app()  # the command's own app (a test's, or the one made from the environment)
    return console_schema_problem(app.extensions["console_db"].console_engine)


@click.group(cls=ConsoleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context):
    """Support Console: audited self-service tasks, runbooks and deflection tracking."""
    if ctx.obj is None:
        ctx.obj = domain_app(ctx)


@main.command()
def init():
    """Create or upgrade both schemas (idempotent)."""
    app = make_app()
    dbs = app.extensions["console_db"]
    try:
        upgrade_console(dbs.console_engine)
        created = create_target_schema(dbs.target_engine, app.extensions["product"])
    except Exception as exc:  # an unreachable or refused database: say which, in one line
        raise click.ClickException(f"could not initialise the databases: {exc.__class__.__name__}: {exc}") from None
    check_start_up(app)
    if not created:
        click.echo(f"The product database is left as it is: {app.config['PRODUCT_PACKAGE']} owns no schema.")
    click.echo("Schemas are up to date.")


@main.command("demo-data")
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--history-days", default=180, show_default=True, type=click.IntRange(0, 3650))
def demo_data(customers: int, seed: int, history_days: int):
    """Load the demo shop, the demo staff users and the ticket history (no duplicates)."""
    app = make_app()
    with app.app_context():
        report = _load_demo(app, customers=customers, seed=seed, history_days=history_days)
    for line in report:
        click.echo(line)


def _load_demo(app, **options) -> list[str]:
    try:
        return load_demo(app, progress=True, **options)
    except ValueError as exc:  # a named record clashing with real data, or no schema yet: one clear line
        raise click.ClickException(str(exc)) from None


def _serve(app, host: str, port: int) -> None:
    check_start_up(app)
    policy = policy_from_config(app.config)
    url = app.extensions["console_db"].console_engine.url.render_as_string(hide_password=False)
    jobs = [lambda: start_webhook_sender(app), lambda: start_bulk_thread(app), lambda: start_digest_keeper(app)]
    if policy is not None:
        jobs.append(lambda: CheckpointKeeper(url, policy).start())
    # These run in the workers: a thread of the master would hold a connection across their forks.
    serving.run_gunicorn(app, host, port, in_worker=jobs)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int):
    """Serve the console (SECRET_KEY and CONSOLE_AUDIT_KEY are required)."""
    _serve(make_app(strict=True), host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(0, 10_000_000))
def demo(host: str, port: int, customers: int):
    """Run init, then demo-data, then serve, and print the URL and the demo logins."""
    app = make_app(demo=True)
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    create_target_schema(dbs.target_engine, app.extensions["product"])
    with app.app_context():
        report = _load_demo(app, customers=customers, seed=0, history_days=180)
    for line in report:
        click.echo(line)
    click.echo(demo_banner(f"http://{host}:{port}/", app))
    _serve(app, host, port)


@main.group()
def users():
    """Manage staff users."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, help="agent, lead, product_owner, developer or admin")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, role: str, name: str, password_stdin: bool):
    """Create a staff user; without --password-stdin a random password is printed once."""
    generated = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = generated = secrets.token_urlsafe(12)
    app = make_app()
    with app.app_context():
        expect_writes()
        try:
            user = create_user(console_session(), email, role, password, name=name, actor="cli")
        except AccountError as exc:
            raise click.ClickException(f"{exc.field}: {exc}") from None
        click.echo(f"Created {user.email} ({role_title(user.role)}).")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@contextmanager
def _staff_user(email: str):
    """Inside an app context, (session, the staff user with this email); one clear line when there is none."""
    app = make_app()
    with app.app_context():
        expect_writes()
        session = console_session()
        user = find_user(session, email)
        if user is None:
            raise click.ClickException(f"email: no staff user {email}")
        yield session, user


def _set_enabled(email: str, enabled: bool) -> None:
    with _staff_user(email) as (session, user):
        changed = update_account(session, user, {"active": enabled}, actor="cli")
        state = "enabled" if enabled else "disabled"
        if not changed:
            click.echo(f"{user.email} is already {state}.")
        elif enabled:
            click.echo(f"Enabled {user.email}. Tokens revoked when the account was disabled stay revoked: "
                       "issue new ones with `support-console tokens create`.")
        else:
            click.echo(f"Disabled {user.email}: their sessions ended and their API tokens are revoked.")


@users.command("disable")
@click.argument("email")
def users_disable(email: str):
    """Disable a staff user: their sessions end and their API tokens are revoked for good."""
    _set_enabled(email, False)


@users.command("enable")
@click.argument("email")
def users_enable(email: str):
    """Enable a disabled staff user again; their old API tokens stay revoked."""
    _set_enabled(email, True)


@main.group()
def tokens():
    """Manage API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. 'helpdesk integration'.")
def tokens_create(email: str, name: str):
    """Print a new API token for the user as the last line."""
    with _staff_user(email) as (session, user):
        if not user.active:
            raise click.ClickException(f"email: {user.email} is disabled")
        token = create_token(session, user, name, actor="cli")
        click.echo(f"API token for {user.email} ({role_title(user.role)}); it is shown only now:")
        click.echo(token)


for _domain in DOMAINS:
    if find_spec(f"console.{_domain}.cli") is not None:
        main.add_command(import_module(f"console.{_domain}.cli").group)
