"""Console and shop tables in ONE database (the same URL for both): runs still work.

A run that needs no approval holds its change uncommitted while its intent commits. In one SQLite
file that would wait on its own write lock, so the runner keeps the two-pass order there; on
PostgreSQL the two connections lock different rows and the one pass is kept.
"""
from sqlalchemy import insert, select

from admin_tasks.shop_schema import Customer
from console.audit.models import AuditEntry
from console.auth.models import StaffUser
from console.db import console_session, target_session, utcnow
from console.tasks.runner import RunRequest, start_run
from tests.committed import make_committed_user


def test_a_run_commits_when_both_are_one_database(isolated_app, test_databases):
    urls = test_databases.create()
    app = isolated_app(CONSOLE_DATABASE_URL=urls["console"], TARGET_DATABASE_URL=urls["console"])
    dbs = app.extensions["console_db"]
    assert dbs.same_database
    now = utcnow()
    with dbs.target_engine.begin() as conn:
        conn.execute(insert(Customer).values(id=1, email="locked@example.org", name="Locked", status="locked",
                                             email_confirmed=True, failed_login_count=5, created_at=now,
                                             updated_at=now))
    agent = make_committed_user(app, "agent")

    with app.app_context():
        actor = console_session().scalar(select(StaffUser).where(StaffUser.email == agent))
        run = start_run(RunRequest(task="unlock_account", params={"email": "locked@example.org"}, ticket="T-ONE",
                                   reason="one database", actor=actor, source="cli"))
        assert run.status == "succeeded"
        target_session().rollback()
        assert target_session().scalar(select(Customer.status).where(Customer.id == 1)) == "active"
        actions = console_session().scalars(select(AuditEntry.action).where(AuditEntry.subject_id == str(run.id))
                                            .order_by(AuditEntry.seq)).all()
        assert actions == ["task.intent", "task.outcome"]
