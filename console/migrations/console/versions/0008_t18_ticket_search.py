"""ticket list: find tickets by customer, by assignee and by who worked on them

Revision ID: 0008_t18_ticket_search
Revises: 0007_t15_audit
Create Date: 2026-12-06 12:00:00

Each index serves one filter of the ticket list (newest first), so a page stays one short
index read however many tickets there are. Tickets opened before this revision keep an empty
customer until their next task run names one.
"""
from alembic import op


revision = '0008_t18_ticket_search'
down_revision = '0007_t15_audit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_customer', ['customer', 'id'], unique=False)
        batch_op.create_index('ix_tickets_assignee', ['assignee', 'id'], unique=False)
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_actor', ['actor', 'ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_actor')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_assignee')
        batch_op.drop_index('ix_tickets_customer')
