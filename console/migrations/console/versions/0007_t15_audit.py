"""ticket events: append-only triggers, like the audit trail's

Revision ID: 0007_t15_audit
Revises: 0006_audit_head_checkpoint (depends on 0005_runbook_events_index)
Create Date: 2026-12-06 09:00:00

A ticket's events decide its outcome and hold the notes and root causes staff wrote; each is
audited when it is written (console.deflection.tickets). The triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL) on ticket_events, so a note cannot be rewritten after the fact.
Derived facts and rollups live on other tables and stay updatable.

On SQLite, a later batch migration of ticket_events copies it into a new table, which loses
the triggers: such a migration must create them again (trigger_statements below).
"""
from alembic import op


revision = '0007_t15_audit'
down_revision = '0006_audit_head_checkpoint'
branch_labels = None
# ticket_events comes from another branch of the history (0002, rebuilt on SQLite by 0004's
# batch operations, indexed by 0005): install the triggers after all of them.
depends_on = '0005_runbook_events_index'

TABLE = "ticket_events"

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ticket_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket events are append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def trigger_statements(dialect: str) -> list[str]:
    """Every statement that installs the append-only triggers on ticket_events on this dialect."""
    if dialect == "postgresql":
        return [
            POSTGRES_FUNCTION,
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION ticket_events_refuse_change()",
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ticket_events_refuse_change()",
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'ticket events are append-only: {verb} on {TABLE} is refused'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    return []


def upgrade() -> None:
    for statement in trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        op.execute("DROP FUNCTION IF EXISTS ticket_events_refuse_change()")
    elif dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
