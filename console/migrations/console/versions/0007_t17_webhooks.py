"""webhook outbox: chat messages queued with their event, sent in order by the webhook sender

Revision ID: 0007_t17_webhooks
Revises: 0006_audit_head_checkpoint
Create Date: 2026-12-06 12:00:00

AUTOINCREMENT on SQLite: a message's id is its delivery id, which receivers deduplicate on,
so an id must never be handed out twice even after old messages are purged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_t17_webhooks'
down_revision = '0006_audit_head_checkpoint'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('destination', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_outbox')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('webhook_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_outbox_destination_status_id', ['destination', 'status', 'id'], unique=False)
        batch_op.create_index('ix_webhook_outbox_status_created', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_outbox_status_created')
        batch_op.drop_index('ix_webhook_outbox_destination_status_id')
    op.drop_table('webhook_outbox')
