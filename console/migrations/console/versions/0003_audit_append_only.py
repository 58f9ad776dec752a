"""audit trail: append-only triggers, verification results, filter indexes

Revision ID: 0003_audit_append_only
Revises: 0001_core
Create Date: 2026-11-27 09:10:00.000000

The triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit_entries and
audit_checkpoints. audit_head stays updatable: append moves it forward. Anyone who can drop
a trigger can still tamper; `support-console audit verify` is what detects that.

On SQLite, a later batch migration of these tables copies them into a new table, which
loses the triggers: such a migration must create them again (see trigger_statements below).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_audit_append_only'
down_revision = '0001_core'
branch_labels = None
depends_on = None

PROTECTED = ("audit_entries", "audit_checkpoints")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def postgres_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    ]


def sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: {verb} on {table} is refused'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def trigger_statements(dialect: str) -> list[str]:
    """Every statement that installs the append-only triggers on this dialect."""
    if dialect == "postgresql":
        return [POSTGRES_FUNCTION] + [sql for table in PROTECTED for sql in postgres_triggers(table)]
    if dialect == "sqlite":
        return [sql for table in PROTECTED for sql in sqlite_triggers(table)]
    return []


def upgrade() -> None:
    op.create_table('audit_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('checkpoint_seq', sa.Integer(), nullable=True),
    sa.Column('checkpoint_at', sa.DateTime(), nullable=True),
    sa.Column('first_bad_seq', sa.Integer(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('warnings', sa.Text(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=254), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_verifications'))
    )
    op.create_index('ix_audit_entries_action_seq', 'audit_entries', ['action', 'seq'], unique=False)
    op.create_index('ix_audit_entries_outcome_seq', 'audit_entries', ['outcome', 'seq'], unique=False)
    # The head row exists from the start, so two first-ever writers cannot both insert it.
    op.execute(
        "INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, '" + "0" * 64 + "' "
        "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1)"
    )
    for statement in trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in PROTECTED:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        elif dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    op.drop_index('ix_audit_entries_outcome_seq', table_name='audit_entries')
    op.drop_index('ix_audit_entries_action_seq', table_name='audit_entries')
    op.drop_table('audit_verifications')
