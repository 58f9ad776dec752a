"""audit head: the newest checkpoint's seq and time, so append needs no SELECT to know one is due

Revision ID: 0006_audit_head_checkpoint
Revises: 0003_audit_append_only
Create Date: 2026-12-02 16:00:00

audit_head has no append-only trigger (append moves it), so plain ADD COLUMN works on both
databases. The new columns start from the newest checkpoint already signed.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_audit_head_checkpoint'
down_revision = '0003_audit_append_only'
branch_labels = None
depends_on = None

NEWEST = "(SELECT {column} FROM audit_checkpoints ORDER BY id DESC LIMIT 1)"


def upgrade() -> None:
    op.add_column('audit_head', sa.Column('checkpoint_seq', sa.Integer(), nullable=True))
    op.add_column('audit_head', sa.Column('checkpoint_at', sa.DateTime(), nullable=True))
    op.execute(f"UPDATE audit_head SET checkpoint_seq = {NEWEST.format(column='seq')}, "
               f"checkpoint_at = {NEWEST.format(column='created_at')}")


def downgrade() -> None:
    with op.batch_alter_table('audit_head') as batch_op:
        batch_op.drop_column('checkpoint_at')
        batch_op.drop_column('checkpoint_seq')
