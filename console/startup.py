"""The start-up check that needs the console database, run once by `init`, `serve`, `demo` and wsgi.py.

Settings that only need the code (roles, task names) are checked by `create_app` itself; this
step checks those that name staff, which only the console database knows.
"""
from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from console.config import ConfigError
from console.db import console_session, databases
from console.deflection.rotation import check_rotation, check_teams


def check_start_up(app) -> None:
    """Raise ConfigError, naming the variable, when a setting names staff the console does not have."""
    try:
        with app.app_context():
            check_rotation(console_session(), app.config)
            check_teams(console_session(), app.config)
    except SQLAlchemyError as exc:
        raise ConfigError(f"CONSOLE_SUPPORT_ROTATION cannot be checked: the console database did not answer "
                          f"({exc.__class__.__name__}); run `support-console init` first") from None
    finally:
        databases(app).dispose()  # no connection crosses a fork into the server's workers
