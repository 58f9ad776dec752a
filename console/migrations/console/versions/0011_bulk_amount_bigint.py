"""a bulk's total amount as a 64-bit integer

Revision ID: 0011_bulk_amount_bigint
Revises: 0010_run_bulk_id
Create Date: 2026-12-07 03:10:00

A bulk sums its items' amounts: up to 10,000 items of up to 2^31 - 1 cents each, so its total
outgrows a 32-bit column. PostgreSQL refused such a bulk with "integer out of range", and MariaDB
in strict mode does the same. SQLite's INTEGER already holds 64 bits, so it is left as it is
(a batch rebuild of the table would change nothing it stores).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_bulk_amount_bigint'
down_revision = '0010_run_bulk_id'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('bulk_runs', 'amount_cents', existing_type=sa.Integer(), type_=sa.BigInteger(),
                        existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column('bulk_runs', 'amount_cents', existing_type=sa.BigInteger(), type_=sa.Integer(),
                        existing_nullable=True)
