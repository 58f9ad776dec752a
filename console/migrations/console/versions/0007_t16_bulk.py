"""bulk runs: one decision over many items, each item a task run

Revision ID: 0007_t16_bulk
Revises: 0003_task_runs
Create Date: 2026-12-06 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_t16_bulk'
down_revision = '0003_task_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bulk_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ticket', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('token_issuer_id', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=True),
    sa.Column('items_hash', sa.String(length=64), nullable=False),
    sa.Column('approval_reasons', sa.Text(), nullable=False),
    sa.Column('approved_by', sa.String(length=254), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('approved_hash', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_users.id'], name=op.f('fk_bulk_runs_actor_id_staff_users')),
    sa.ForeignKeyConstraint(['token_issuer_id'], ['staff_users.id'],
                            name=op.f('fk_bulk_runs_token_issuer_id_staff_users')),
    sa.ForeignKeyConstraint(['approver_id'], ['staff_users.id'], name=op.f('fk_bulk_runs_approver_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_runs'))
    )
    with op.batch_alter_table('bulk_runs', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_runs_status_heartbeat', ['status', 'heartbeat_at'], unique=False)
        batch_op.create_index('ix_bulk_runs_ticket', ['ticket'], unique=False)
    op.create_table('bulk_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulk_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=80), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bulk_id'], ['bulk_runs.id'], name=op.f('fk_bulk_items_bulk_id_bulk_runs')),
    sa.ForeignKeyConstraint(['run_id'], ['task_runs.id'], name=op.f('fk_bulk_items_run_id_task_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_items')),
    sa.UniqueConstraint('bulk_id', 'idx', name='uq_bulk_items_bulk_idx')
    )
    with op.batch_alter_table('bulk_items', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_items_bulk_status_idx', ['bulk_id', 'status', 'idx'], unique=False)
        batch_op.create_index('ix_bulk_items_run', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_table('bulk_items')
    op.drop_table('bulk_runs')
