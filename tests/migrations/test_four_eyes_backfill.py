"""Revision 0007_t15_staff on a console with data: who requested each run, who issued each token,
and no token of a user already disabled survives to come back after an enable."""
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from console.audit.chain import append
from console.db import utcnow
from console.migrations import alembic_config, upgrade_console

STAFF = "INSERT INTO staff_users (id, email, name, role, team, active, session_version, created_at) VALUES "


def test_the_revision_backfills_people_and_revokes_tokens_of_disabled_users(test_databases):
    engine = create_engine(test_databases.create()["console"])
    config = alembic_config(engine)
    command.upgrade(config, "0006_audit_head_checkpoint")
    command.upgrade(config, "0003_task_runs")
    now = utcnow()
    with Session(engine) as session:
        session.execute(text(STAFF + "(1, 'admin@example.com', '', 'admin', 'support', :on, 1, :now), "
                                     "(2, 'lead2@example.com', '', 'lead', 'support', :on, 1, :now), "
                                     "(3, 'leaver@example.com', '', 'agent', 'support', :off, 1, :now)"),
                        {"on": True, "off": False, "now": now})
        tokens = text("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) VALUES "
                      "(1, 2, 'by admin', 'h1', 'sc_1', :now), (2, 2, 'by cli', 'h2', 'sc_2', :now), "
                      "(3, 3, 'leaver', 'h3', 'sc_3', :now)")
        session.execute(tokens, {"now": now})
        append(session, actor="admin@example.com", action="token.create", subject_type="token", subject_id=1)
        append(session, actor="cli", action="token.create", subject_type="token", subject_id=2)
        runs = text("INSERT INTO task_runs (id, task, status, ticket, reason, actor, params, changes, effects, result, "
                    "error, risk, source, created_at, decision_reason, approval_reasons, preview_hash, customer) "
                    "VALUES (:id, 'refund_order', 'pending_approval', 'T-1', 'r', :actor, '{}', '[]', '[]', '', '', "
                    "'high', 'api', :now, '', '', '', '')")
        session.execute(runs, [{"id": 1, "actor": "lead2@example.com", "now": now},
                               {"id": 2, "actor": "gone@example.com", "now": now}])
        session.commit()

    upgrade_console(engine)

    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, actor_id, token_issuer_id FROM task_runs ORDER BY id")).all() == [
            (1, 2, None), (2, None, None)]
        tokens = conn.execute(text("SELECT id, issued_by_id, revoked_at IS NOT NULL FROM api_tokens ORDER BY id"))
        assert [tuple(row) for row in tokens] == [(1, 1, False), (2, None, False), (3, None, True)]
    engine.dispose()
