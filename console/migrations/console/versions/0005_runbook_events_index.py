"""index ticket events by runbook, so a runbook page counts its tickets without scanning every view

Revision ID: 0005_runbook_events_index
Revises: 0004_deflection
Create Date: 2026-11-27 13:50:00
"""
from alembic import op


revision = '0005_runbook_events_index'
down_revision = '0004_deflection'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ticket_events_runbook', 'ticket_events', ['runbook', 'ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_events_runbook', table_name='ticket_events')
