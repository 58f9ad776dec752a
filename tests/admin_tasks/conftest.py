"""Drive the starter tasks through the real runner, as an agent on a ticket would."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from admin_tasks.shop_schema import OutboxEmail
from console.tasks.runner import RunRequest, TaskError, approve_run, preview, start_run, undo_run

TICKET = "T-100"
REASON = "Customer asked on the ticket"


class TaskDesk:
    """Preview, run, approve and undo tasks, and read what they left in the shop."""

    def __init__(self, app, make_user, target_db):
        self.app = app
        self.make_user = make_user
        self.target_db = target_db

    def request(self, name: str, as_role: str = "agent", **params) -> RunRequest:
        return RunRequest(task=name, params=params, ticket=TICKET, reason=REASON, actor=self.make_user(as_role),
                          source="api")

    def preview(self, name: str, **params):
        with self.app.app_context():
            return preview(self.request(name, **params))

    def run(self, name: str, *, as_role: str = "agent", **params):
        with self.app.app_context():
            run = start_run(self.request(name, as_role=as_role, **params))
        self.target_db.expire_all()
        return run

    def run_approved(self, name: str, **params):
        """Request a high-risk run as an agent and have a lead approve it."""
        run = self.run(name, **params)
        assert run.status == "pending_approval"
        with self.app.app_context():
            run = approve_run(run.id, self.make_user("lead"), "Checked the ticket")
        self.target_db.expire_all()
        return run

    def refusal(self, name: str, **params) -> str:
        """Return the refusal message of a run that must be refused."""
        with self.app.app_context(), pytest.raises(TaskError) as refused:
            start_run(self.request(name, **params))
        assert (refused.value.status, refused.value.code) == (422, "refused"), refused.value.message
        self.target_db.expire_all()
        return refused.value.message

    def invalid_fields(self, name: str, **params) -> dict:
        """Return the per-field messages of a request the runner rejects as invalid."""
        with self.app.app_context(), pytest.raises(TaskError) as invalid:
            start_run(self.request(name, **params))
        assert (invalid.value.status, invalid.value.code) == (400, "invalid"), invalid.value.message
        return invalid.value.fields or {}

    def undo(self, run):
        with self.app.app_context():
            undone = undo_run(run.id, self.make_user("lead"), TICKET, "Run by mistake")
        self.target_db.expire_all()
        return undone

    def undo_refusal(self, run) -> str:
        with self.app.app_context(), pytest.raises(TaskError) as refused:
            undo_run(run.id, self.make_user("lead"), TICKET, "Run by mistake")
        assert refused.value.status in (409, 422), refused.value.message
        self.target_db.expire_all()
        return refused.value.message

    def outbox(self, **where) -> list[tuple[str, str]]:
        """Return (to_address, template) of the outbox rows matching `where`, oldest first."""
        rows = self.target_db.scalars(select(OutboxEmail).filter_by(**where).order_by(OutboxEmail.id))
        return [(row.to_address, row.template) for row in rows]

    def count(self, model) -> int:
        return self.target_db.scalar(select(func.count()).select_from(model))


def changes_of(run) -> list[dict]:
    """Return a run's recorded changes as a list of dicts."""
    return json.loads(run.changes) if isinstance(run.changes, str) else list(run.changes or [])


def change_to(changes: list[dict], table: str) -> list[dict]:
    """Return the changes made to one table."""
    return [change for change in changes if change["table"] == table]


@pytest.fixture
def desk(app, dbs, make_user, target_db) -> TaskDesk:
    return TaskDesk(app, make_user, target_db)
