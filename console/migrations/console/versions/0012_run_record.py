"""the record a task run was on, as its task states it

Revision ID: 0012_run_record
Revises: 0011_bulk_amount_bigint
Create Date: 2026-12-07 10:10:00

A run recorded its subject only as a customer's email and an order number, read from parameters named
like the demo shop's; a record page of any other product found none of its runs. A run now also records
the record its task is offered on and the value of the task's record_param. Runs made before stay
without one: which record a task was offered on is code, not data, and the code may have changed since.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_run_record'
down_revision = '0011_bulk_amount_bigint'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('task_runs', sa.Column('record', sa.String(length=63), nullable=True))
    op.add_column('task_runs', sa.Column('record_key', sa.String(length=254), nullable=True))
    op.create_index('ix_task_runs_record_created', 'task_runs', ['record', 'record_key', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_task_runs_record_created', table_name='task_runs')
    op.drop_column('task_runs', 'record_key')
    op.drop_column('task_runs', 'record')
