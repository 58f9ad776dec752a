"""four-eyes by person: a run's requester and token issuer by staff id; a token's issuer

Revision ID: 0007_t15_staff
Revises: 0006_audit_head_checkpoint, 0003_task_runs
Create Date: 2026-12-06 10:00:00

Backfills what can be known: a run's actor_id from the staff row that has its email now (runs by
an email no staff row has stay NULL, and cannot be approved); a token's issuer from the audit
entry that recorded its creation (tokens made at the command line stay NULL). Tokens of users
disabled before this revision are revoked, because from now on enabling a user never brings
old tokens back.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0007_t15_staff'
# Also after 0003_task_runs (a merge, not depends_on, so that the heads stored match the scripts'):
# task_runs must exist first.
down_revision = ('0006_audit_head_checkpoint', '0003_task_runs')
branch_labels = None
depends_on = None


COLUMNS = (('task_runs', 'actor_id'), ('task_runs', 'token_issuer_id'), ('api_tokens', 'issued_by_id'))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        # SQLite cannot add a constraint to a table; its batch mode would copy task_runs whole.
        if op.get_bind().dialect.name != 'sqlite':
            op.create_foreign_key(f'fk_{table}_{column}', table, 'staff_users', [column], ['id'])
    op.execute("UPDATE task_runs SET actor_id = "
               "(SELECT staff_users.id FROM staff_users WHERE staff_users.email = task_runs.actor)")
    op.execute("UPDATE api_tokens SET issued_by_id = "
               "(SELECT staff_users.id FROM audit_entries JOIN staff_users ON staff_users.email = audit_entries.actor "
               "WHERE audit_entries.action = 'token.create' AND audit_entries.subject_type = 'token' "
               "AND audit_entries.subject_id = CAST(api_tokens.id AS VARCHAR(20)) "
               "ORDER BY audit_entries.seq LIMIT 1)")
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # the console stores naive UTC
    op.execute(sa.text("UPDATE api_tokens SET revoked_at = :now WHERE revoked_at IS NULL AND user_id IN "
                       "(SELECT id FROM staff_users WHERE active = :disabled)")
               .bindparams(sa.bindparam("now", now, sa.DateTime()), sa.bindparam("disabled", False, sa.Boolean())))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        if op.get_bind().dialect.name != 'sqlite':
            op.drop_constraint(f'fk_{table}_{column}', table, type_='foreignkey')
        op.drop_column(table, column)
