"""escalations: urgent or batched into a daily digest

Revision ID: 0009_h_me_duty
Revises: 0008_t18_ticket_search
Create Date: 2026-12-06 15:00:00

Escalations recorded before this revision count as not urgent and not batched: each was
notified at once when made, so each counts as an interruption.
"""
import sqlalchemy as sa
from alembic import op


revision = '0009_h_me_duty'
down_revision = '0008_t18_ticket_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of the table on SQLite would drop its append-only triggers.
    op.add_column('ticket_events', sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.text('false')))
    op.add_column('ticket_events', sa.Column('batched', sa.Boolean(), nullable=False,
                                             server_default=sa.text('false')))
    op.create_table(
        'escalation_digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('covers_from', sa.DateTime(), nullable=False),
        sa.Column('escalations', sa.Integer(), nullable=False),
        sa.Column('developers', sa.Integer(), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day'),
    )


def downgrade() -> None:
    op.drop_table('escalation_digests')
    op.drop_column('ticket_events', 'batched')
    op.drop_column('ticket_events', 'urgent')
