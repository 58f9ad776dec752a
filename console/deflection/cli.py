"""`support-console deflection ...`: maintenance of the deflection records."""
from __future__ import annotations

import click


@click.group("deflection")
def group():
    """Tickets, outcomes and the dashboard's rollups."""


@group.command("rebuild")
def rebuild_command():
    """Recompute every ticket's outcome and the dashboard rollups from the ticket events."""
    from console.cli import make_app
    from console.db import console_session
    from console.deflection.rebuild import rebuild

    app = make_app()
    try:
        with app.app_context():
            session = console_session()
            count = rebuild(session)
            session.commit()
    finally:
        app.extensions["console_db"].dispose()
    click.echo(f"Rebuilt the outcomes and rollups of {count} tickets.")


@group.command("rotation")
@click.option("--sprints", default=6, show_default=True, type=click.IntRange(1, 52))
def rotation_command(sprints: int):
    """Print who is on support duty this sprint and in the next ones."""
    from console.cli import make_app
    from console.db import console_session, utcnow
    from console.deflection.rotation import schedule

    app = make_app()
    try:
        with app.app_context():
            duties = schedule(console_session(), utcnow().date(), sprints)
    finally:
        app.extensions["console_db"].dispose()
    if not duties:
        raise click.ClickException("nobody is on the support rotation: create developers or set SUPPORT_ROTATION")
    for duty in duties:
        click.echo(f"{duty.starts} to {duty.ends}  {duty.developer}")
