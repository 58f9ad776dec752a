"""task runs: the amount a run moves and the address it sets, for cumulative caps and the takeover rule

Revision ID: 0007_t15_policy
Revises: 0006_audit_head_checkpoint, 0003_task_runs
Create Date: 2026-12-06 12:00:00

Both columns are nullable and start empty: runs made before them count for nothing, which is
what their absence meant before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_t15_policy'
# task_runs is made on the 0003_task_runs branch: this revision joins it to the newest one.
down_revision = ('0006_audit_head_checkpoint', '0003_task_runs')
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('task_runs', sa.Column('amount_cents', sa.Integer(), nullable=True))
    op.add_column('task_runs', sa.Column('address_set', sa.String(length=254), nullable=True))
    op.create_index('ix_task_runs_address_set', 'task_runs', ['address_set'])


def downgrade() -> None:
    op.drop_index('ix_task_runs_address_set', table_name='task_runs')
    with op.batch_alter_table('task_runs') as batch_op:
        batch_op.drop_column('address_set')
        batch_op.drop_column('amount_cents')
