"""`support-console deflection ...`: maintenance of the deflection records."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from console.db import console_session, utcnow
from console.deflection.rebuild import rebuild
from console.deflection.rotation import schedule


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
