"""`support-console audit`: verify the trail, sign a checkpoint."""
from __future__ import annotations

from contextlib import contextmanager

import click
from flask.cli import ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from console.audit.checkpoints import policy_from_config, write_checkpoint
from console.audit.verify import Anchor, record_verification, verify_trail
from console.db import begin_writing, console_session, databases, expect_writes
from console.engines import database_error_text


@click.group(name="audit")
def group():
    """The tamper-evident audit trail."""


@contextmanager
def _app_context():
    """The command's app, from the ScriptInfo that `support-console` (or a test's CLI runner) hands it."""
    app = click.get_current_context().find_object(ScriptInfo).load_app()
    with app.app_context():
        yield app


@group.command()
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH",
              help="A checkpoint line kept outside the database (from the checkpoint job's log): fail unless "
                   "entry SEQ still has HASH. Repeatable.")
@click.option("--strict", is_flag=True,
              help="Fail, rather than warn, when a checkpoint is missing in time or the trail has none at all. "
                   "Use it once the hourly `audit checkpoint` job runs: it then bounds what deleting the newest "
                   "entries can hide.")
@click.option("--no-record", is_flag=True, help="Do not keep the result for the home page.")
@click.pass_context
def verify(ctx, anchors: tuple[str, ...], strict: bool, no_record: bool):
    """Re-hash the whole trail and check the signed checkpoints; exit 1 naming the first bad seq."""
    try:
        parsed = [Anchor.parse(text) for text in anchors]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    with _app_context() as app:
        try:
            result = verify_trail(databases(app).console_engine, app.config["CONSOLE_AUDIT_KEY"],
                                  policy=policy_from_config(app.config), anchors=parsed, strict=strict)
        except Exception as exc:  # one clear line instead of a traceback (the top group names `init` if it is due)
            raise click.ClickException(f"could not read the audit trail: {_problem(exc)}") from exc
        click.echo(result.summary)
        if result.checkpoint_seq is not None:
            click.echo(f"{result.checkpoints} signed checkpoints verified; the newest covers seq "
                       f"{result.checkpoint_seq} (signed {result.checkpoint_at:%Y-%m-%d %H:%M:%S} UTC).")
        elif result.ok:
            click.echo("No signed checkpoint yet: run `support-console audit checkpoint`.")
        click.echo(f"Read in {result.seconds:.2f} s.")
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        if not no_record:
            session = console_session()
            try:
                begin_writing(session)
                record_verification(session, result, source="cli")
                session.commit()
            except Exception as exc:  # the verdict stands even if it cannot be kept
                session.rollback()
                click.echo(f"warning: the result could not be stored: {exc.__class__.__name__}", err=True)
    ctx.exit(0 if result.ok else 1)


def _problem(exc: Exception) -> str:
    return database_error_text(exc) if isinstance(exc, SQLAlchemyError) else f"{exc.__class__.__name__}: {exc}"


@group.command()
def checkpoint():
    """Sign the chain's head now. Run it hourly from cron and keep its output elsewhere.

    Its last line, SEQ:HASH, is an anchor: `audit verify --anchor SEQ:HASH` later proves that
    the trail still holds that entry, even if someone deleted the checkpoints in the database.
    """
    with _app_context() as app:
        expect_writes()
        session = console_session()
        try:
            made = write_checkpoint(session, app.config["CONSOLE_AUDIT_KEY"])
            session.commit()
        except Exception as exc:  # one clear line instead of a traceback
            session.rollback()
            raise click.ClickException(f"could not write the checkpoint: {_problem(exc)}") from exc
        click.echo(f"Signed checkpoint at seq {made.seq}, {made.created_at:%Y-%m-%d %H:%M:%S} UTC.")
        click.echo(f"{made.seq}:{made.hash}")
