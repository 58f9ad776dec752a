"""An isolated app with the named demo records, staff of each role and their API tokens, all committed.

Faults and concurrency need real commits and several connections, so they cannot run inside the rolled-back
`dbs` transaction; this wraps `isolated_app` for them and reads the databases through the engines.
"""
from __future__ import annotations

from sqlalchemy import func, select, text

from admin_tasks.shop.demo_named import restore_named_records
from admin_tasks.shop_schema import Order, OutboxEmail, Refund
from console.audit.checkpoints import policy_from_config
from console.audit.models import AuditEntry
from console.audit.verify import Verification, verify_trail
from console.auth.models import StaffUser
from console.auth.services import create_token
from console.db import utcnow
from console.tasks.models import TaskRun
from tests.committed import make_committed_user

ROLES = ("agent", "lead", "admin")


def committed_token(app, email: str) -> dict:
    """Bearer headers for a committed user (create_token audits and commits)."""
    session = app.extensions["console_db"].console_factory()
    try:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        return {"Authorization": f"Bearer {create_token(session, user, 'security test')}"}
    finally:
        session.close()


class Shop:
    """One isolated app, its client and what the tests read back."""

    def __init__(self, app, roles=ROLES):
        self.app = app
        self.dbs = app.extensions["console_db"]
        with self.dbs.target_engine.begin() as conn:
            restore_named_records(conn, utcnow())
        self.emails = {role: make_committed_user(app, role) for role in roles}
        self.tokens = {role: committed_token(app, email) for role, email in self.emails.items()}
        self.client = app.test_client()
        self.dialect = self.dbs.target_engine.dialect.name

    @property
    def urls(self) -> dict:
        return {"console": self.app.config["CONSOLE_DATABASE_URL"], "target": self.app.config["TARGET_DATABASE_URL"]}

    def post(self, path: str, role: str = "agent", body: dict | None = None, headers: dict | None = None):
        return self.client.post(path, json=body if body is not None else {},
                                headers={**self.tokens[role], **(headers or {})})

    def run(self, task: str, role: str = "agent", key: str | None = None, ticket: str = "T-SEC", **params):
        return self.post(f"/api/v1/tasks/{task}/runs", role,
                         {"params": params, "ticket": ticket, "reason": "security test"},
                         {"Idempotency-Key": key} if key else None)

    def target(self, query):
        with self.dbs.target_engine.connect() as conn:
            return conn.execute(query).all()

    def console(self, query):
        with self.dbs.console_engine.connect() as conn:
            return conn.execute(query).all()

    def target_sql(self, statement: str) -> None:
        with self.dbs.target_engine.begin() as conn:
            conn.execute(text(statement))

    def console_sql(self, statement: str) -> None:
        with self.dbs.console_engine.begin() as conn:
            conn.execute(text(statement))

    def order(self, order_id: int = 1004) -> dict:
        """What a refund touches: the order's columns, its refunds and its outbox emails."""
        with self.dbs.target_engine.connect() as conn:
            order = conn.execute(select(Order.__table__).where(Order.id == order_id)).mappings().one()
            refunds = conn.execute(select(Refund.amount_cents).where(Refund.order_id == order_id)
                                   .order_by(Refund.id)).scalars().all()
            emails = conn.execute(select(OutboxEmail.template).where(OutboxEmail.order_id == order_id)
                                  .order_by(OutboxEmail.id)).scalars().all()
        return {"refunded_cents": order["refunded_cents"], "status": order["status"], "refunds": refunds,
                "emails": emails, "updated_at": order["updated_at"]}

    def runs(self) -> list:
        return self.console(select(TaskRun.id, TaskRun.task, TaskRun.status, TaskRun.error, TaskRun.result)
                            .order_by(TaskRun.id))

    def audit(self, run_id=None) -> list[tuple[str, str]]:
        query = select(AuditEntry.action, AuditEntry.outcome).order_by(AuditEntry.seq)
        if run_id is not None:
            query = query.where(AuditEntry.subject_type == "task_run", AuditEntry.subject_id == str(run_id))
        return [tuple(row) for row in self.console(query)]

    def audit_count(self) -> int:
        return self.console(select(func.count()).select_from(AuditEntry))[0][0]

    def verify(self) -> Verification:
        """`audit verify` over the whole committed trail, checkpoints included."""
        return verify_trail(self.dbs.console_engine, self.app.config["CONSOLE_AUDIT_KEY"],
                            policy=policy_from_config(self.app.config))
