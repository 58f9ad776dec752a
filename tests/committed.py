"""Small helpers shared by tests that use `isolated_app` (real commits)."""
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
