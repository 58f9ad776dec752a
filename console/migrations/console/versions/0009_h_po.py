"""sprints, root causes, and the bulk a task run's ticket event belongs to

Revision ID: 0009_h_po
Revises: 0008_t18_ticket_search
Create Date: 2026-12-06 15:00:00

Sprints carry the team's velocity for the support-tax panel; root causes are the 5-whys records of
closed escalations with their actions; `ticket_events.bulk_id` lets tool health count bulk items
apart from single runs (events written before this revision count as single runs).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_h_po'
down_revision = '0008_t18_ticket_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('planned_points', sa.Integer(), nullable=False),
    sa.Column('completed_points', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sprints')),
    sa.UniqueConstraint('name', name=op.f('uq_sprints_name')),
    )
    op.create_index('ix_sprints_starts_on', 'sprints', ['starts_on'], unique=False)
    op.create_table('root_causes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('why_1', sa.Text(), nullable=False),
    sa.Column('why_2', sa.Text(), nullable=False),
    sa.Column('why_3', sa.Text(), nullable=False),
    sa.Column('why_4', sa.Text(), nullable=False),
    sa.Column('root_cause', sa.String(length=300), nullable=False),
    sa.Column('root_key', sa.String(length=300), nullable=False),
    sa.Column('action_kind', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=300), nullable=False),
    sa.Column('action_link', sa.String(length=500), nullable=False),
    sa.Column('action_done_at', sa.DateTime(), nullable=True),
    sa.Column('action_done_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_root_causes_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_root_causes')),
    )
    op.create_index('ix_root_causes_created', 'root_causes', ['created_at'], unique=False)
    op.create_index('ix_root_causes_ticket', 'root_causes', ['ticket_id', 'id'], unique=False)
    # A plain ADD COLUMN (no batch copy): the table's append-only triggers stay in place.
    op.add_column('ticket_events', sa.Column('bulk_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('ticket_events', 'bulk_id')
    op.drop_index('ix_root_causes_ticket', table_name='root_causes')
    op.drop_index('ix_root_causes_created', table_name='root_causes')
    op.drop_table('root_causes')
    op.drop_index('ix_sprints_starts_on', table_name='sprints')
    op.drop_table('sprints')
