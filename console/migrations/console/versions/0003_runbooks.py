"""runbook search misses (runbook gaps) and checklist ticks on tickets

Revision ID: 0003_runbooks
Revises: 0002_tickets
Create Date: 2026-11-27 08:39:38.723152
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_runbooks'
down_revision = '0002_tickets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('runbook_search_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('terms', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('ticket', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_search_misses'))
    )
    with op.batch_alter_table('runbook_search_misses', schema=None) as batch_op:
        batch_op.create_index('ix_runbook_search_misses_created', ['created_at'], unique=False)
        batch_op.create_index('ix_runbook_search_misses_terms_created', ['terms', 'created_at'], unique=False)

    op.create_table('runbook_ticks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('runbook', sa.String(length=120), nullable=False),
    sa.Column('check_id', sa.String(length=200), nullable=False),
    sa.Column('ticked', sa.Boolean(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_runbook_ticks_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_ticks'))
    )
    with op.batch_alter_table('runbook_ticks', schema=None) as batch_op:
        batch_op.create_index('ix_runbook_ticks_ticket_runbook', ['ticket_id', 'runbook', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runbook_ticks', schema=None) as batch_op:
        batch_op.drop_index('ix_runbook_ticks_ticket_runbook')
    op.drop_table('runbook_ticks')
    with op.batch_alter_table('runbook_search_misses', schema=None) as batch_op:
        batch_op.drop_index('ix_runbook_search_misses_terms_created')
        batch_op.drop_index('ix_runbook_search_misses_created')
    op.drop_table('runbook_search_misses')
