"""What the starter tasks' tests share on top of the author kit (run_task, preview_task, target_row)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from admin_tasks.shop_schema import OutboxEmail
from console.tasks.runner import TaskError, approve_run, undo_run


@pytest.fixture
def outbox(dbs, target_db):
    """(to_address, template) of the shop's outbox rows matching the conditions, oldest first."""

    def read(**where) -> list[tuple[str, str]]:
        rows = target_db.execute(select(OutboxEmail.to_address, OutboxEmail.template).filter_by(**where)
                                 .order_by(OutboxEmail.id))
        return [tuple(row) for row in rows]

    return read


@pytest.fixture
def count_rows(dbs, target_db):
    """How many rows a shop table holds now: count_rows(OutboxEmail)."""
    return lambda model: target_db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def approve(app, task_user):
    """Have a lead approve a pending run, which executes it."""

    def decide(run):
        assert run.status == "pending_approval", run.error
        with app.app_context():
            return approve_run(run.id, task_user("lead"), "Checked the ticket and the customer")

    return decide


@pytest.fixture
def undo(app, task_user):
    """Have a lead undo a run; returns the undo run, refused ones included."""

    def reverse(run):
        with app.app_context():
            try:
                return undo_run(run.id, task_user("lead"), run.ticket, "Run by mistake")
            except TaskError as exc:
                if exc.run is not None:
                    return exc.run
                raise

    return reverse
