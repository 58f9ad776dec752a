"""`support-console deflection ...`: maintenance of the deflection records."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from console.db import console_session, expect_writes, utcnow
from console.deflection.digest import send_digest
from console.deflection.rebuild import rebuild
from console.deflection.rotation import duties_now, schedule


@click.group("deflection")
def group():
    """Tickets, outcomes and the dashboard's rollups."""


@group.command("rebuild")
@with_appcontext
def rebuild_command():
    """Recompute every ticket's outcome and the dashboard rollups from the ticket events."""
    session = console_session()
    count = rebuild(session)
    session.commit()
    click.echo(f"Rebuilt the outcomes and rollups of {count} tickets.")


@group.command("rotation")
@click.option("--sprints", default=6, show_default=True, type=click.IntRange(1, 52))
@with_appcontext
def rotation_command(sprints: int):
    """Print who is on support duty this sprint and in the next ones."""
    duties = schedule(console_session(), utcnow().date(), sprints)
    if not duties:
        raise click.ClickException("nobody is on the support rotation: create developers or set SUPPORT_ROTATION")
    for duty in duties:
        click.echo(f"{duty.starts} to {duty.ends}  {duty.developer}")
    teams = [duty for duty in duties_now(console_session(), utcnow().date()) if duty.team]
    if teams:
        click.echo("On duty now, by team (CONSOLE_CATEGORY_TEAMS):")
        for duty in teams:
            click.echo(f"  {duty.team}: {duty.developer}")


@group.command("digest")
@click.option("--now", "force", is_flag=True, help="send today's digest even before CONSOLE_DIGEST_TIME")
@with_appcontext
def digest_command(force: bool):
    """Send today's digest of escalations that were not urgent, once a day (for cron; `serve` does it too)."""
    expect_writes()
    session = console_session()
    digest = send_digest(session, force=force)
    session.commit()
    if digest is None:
        click.echo("No digest sent: today's was sent already, or it is not yet CONSOLE_DIGEST_TIME "
                   "(or digests are off); --now sends it early.")
        return
    click.echo(f"Sent the digest of {digest.day}: {digest.escalations} escalations for {digest.developers} developers.")
