"""the bulk a task run is an item of, as a column

Revision ID: 0010_run_bulk_id
Revises: 0007_t16_bulk
Create Date: 2026-12-06 21:30:00

Until this revision a run's bulk was read from its idempotency key, `bulk-<bulk id>-<index>`. The
backfill reads it from there once: a run gets the bulk its key names only when that bulk has an item
of that index and was requested by the run's actor for the run's task, as an item's run always is; a
key someone chose that merely looks like an item's leaves the run a single run (NULL).
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0010_run_bulk_id'
# After the revision that made bulk_items (and, through it, task_runs): the backfill reads both.
down_revision = '0007_t16_bulk'
branch_labels = None
depends_on = None

ITEM_KEY = re.compile(r"bulk-([1-9][0-9]*)-(0|[1-9][0-9]*)")
CHUNK = 1000
CANDIDATES = sa.text("SELECT id, idempotency_key FROM task_runs WHERE idempotency_key LIKE 'bulk-%'")
# The item's unique (bulk_id, idx) index finds it; its bulk must be the run's actor's, for the run's task.
BACKFILL = sa.text(
    "UPDATE task_runs SET bulk_id = :bulk WHERE id = :run AND EXISTS ("
    "SELECT 1 FROM bulk_items JOIN bulk_runs ON bulk_runs.id = bulk_items.bulk_id "
    "WHERE bulk_items.bulk_id = :bulk AND bulk_items.idx = :idx "
    "AND bulk_runs.actor = task_runs.actor AND bulk_runs.task = task_runs.task)")


def upgrade() -> None:
    op.add_column('task_runs', sa.Column('bulk_id', sa.Integer(), nullable=True))
    op.create_index('ix_task_runs_bulk_id', 'task_runs', ['bulk_id'], unique=False)
    bind = op.get_bind()
    rows = []
    for run_id, key in bind.execute(CANDIDATES).all():
        match = ITEM_KEY.fullmatch(key)
        if match is not None:
            rows.append({"run": run_id, "bulk": int(match[1]), "idx": int(match[2])})
    for start in range(0, len(rows), CHUNK):
        bind.execute(BACKFILL, rows[start:start + CHUNK])


def downgrade() -> None:
    op.drop_index('ix_task_runs_bulk_id', table_name='task_runs')
    op.drop_column('task_runs', 'bulk_id')
