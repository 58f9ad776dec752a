"""`support-console deflection rebuild | rotation` (the group in console/deflection/cli.py, as main adds it)."""
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import delete, func, select

from console.db import console_session
from console.cli import main
from console.deflection.models import TicketRollup
from console.deflection.tickets import add_ticket_event


def env_of(app) -> dict:
    return {"CONSOLE_DATABASE_URL": app.config["CONSOLE_DATABASE_URL"],
            "TARGET_DATABASE_URL": app.config["TARGET_DATABASE_URL"], "SECRET_KEY": "cli-test",
            "CONSOLE_AUDIT_KEY": "cli-test-" + "k" * 32, "CONSOLE_SUPPORT_ROTATION": "ann@example.com,bob@example.com"}


def test_rebuild_restores_lost_rollups_and_rotation_prints_the_turns(isolated_app):
    app = isolated_app()
    with app.app_context():
        session = console_session()
        add_ticket_event(session, "CLI-1", "escalated", escalation_class="knowledge",
                         created_at=datetime(2026, 3, 3, 10))
        session.execute(delete(TicketRollup))
        session.commit()
    result = CliRunner().invoke(main, ["deflection", "rebuild"], env=env_of(app))
    assert result.exit_code == 0, result.output
    assert "Rebuilt the outcomes and rollups of 1 tickets." in result.output
    with app.app_context():
        assert console_session().scalar(select(func.sum(TicketRollup.tickets))
                                        .where(TicketRollup.grain == "d")) == 1
    rotation = CliRunner().invoke(main, ["deflection", "rotation", "--sprints", "3"], env=env_of(app))
    assert rotation.exit_code == 0, rotation.output
    lines = rotation.output.strip().splitlines()
    assert len(lines) == 3 and lines[0].endswith("@example.com")
    assert lines[0].split()[-1] != lines[1].split()[-1]


def test_digest_sends_once_a_day_and_says_so(isolated_app):
    app = isolated_app()
    with app.app_context():
        session = console_session()
        add_ticket_event(session, "CLI-2", "escalated", escalation_class="knowledge", created_at=datetime.utcnow())
        session.commit()
    env = env_of(app) | {"CONSOLE_DIGEST_TIME": "23:59", "CONSOLE_TIMEZONE": "UTC"}
    first = CliRunner().invoke(main, ["deflection", "digest", "--now"], env=env)
    assert first.exit_code == 0, first.output
    assert "escalations for 1 developers" in first.output
    again = CliRunner().invoke(main, ["deflection", "digest", "--now"], env=env)
    assert again.exit_code == 0 and "No digest sent" in again.output


def test_a_bad_digest_time_stops_the_cli_naming_it(isolated_app):
    result = CliRunner().invoke(main, ["deflection", "digest"], env=env_of(isolated_app()) | {
        "CONSOLE_DIGEST_TIME": "noon"})
    assert result.exit_code != 0 and "CONSOLE_DIGEST_TIME" in result.output
