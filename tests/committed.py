"""Small helpers shared by tests that use `isolated_app` (real commits)."""
from contextlib import contextmanager

from console.engines import make_engine
from tests.factories import StaffUserFactory, use_sessions


def make_committed_user(app, role: str = "agent", **fields) -> str:
    """Create and commit a staff user with the test password in the app's database; return the email."""
    session = app.extensions["console_db"].console_factory()
    use_sessions(session, None)
    try:
        user = StaffUserFactory(role=role, **fields)
        session.commit()
        return user.email
    finally:
        session.close()
        use_sessions(None, None)


@contextmanager
def console_database_down(app, tmp_path):
    """Point the app's console engine and sessions at a database that cannot be reached."""
    dbs = app.extensions["console_db"]
    dead_url = (f"sqlite:///{tmp_path}/no-such-folder/console.db" if dbs.console_engine.dialect.name == "sqlite"
                else "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    original, dead = dbs.console_engine, make_engine(dead_url)
    dbs.console_engine = dead
    dbs.console_factory.configure(bind=dead)
    try:
        yield
    finally:
        dbs.console_factory.configure(bind=original)
        dbs.console_engine = original
        dead.dispose()
