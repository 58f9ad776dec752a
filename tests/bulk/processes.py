"""Real `support-console worker` processes on a real Redis, for the bulk tests that start and kill them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, insert, select

from admin_tasks.shop_schema import Customer, Order, Payment
from console import create_app
from console.bulk.models import OPEN_ITEMS, Bulk, BulkItem
from console.db import console_session, target_session, utcnow
from console.migrations import create_target_schema, upgrade_console
from tests.conftest import config_for
from tests.factories import StaffUserFactory, use_sessions

PROJECT = Path(__file__).resolve().parents[2]
# A Redis database of its own: the tests flush it, and nothing else of the machine's Redis is touched.
REDIS_URL = os.environ.get("TEST_BULK_REDIS_URL", "redis://127.0.0.1:6379/13")
# A lease covers a whole chunk of items (console.bulk.settings.CHUNK), seconds on a loaded machine.
# Chunks of 25: a bulk of 150 spans several, so a pause or a kill lands between or inside them.
FAST = {"BULK_LEASE_SECONDS": 10, "BULK_STALL_SECONDS": 2, "BULK_SWEEP_SECONDS": 1, "BULK_CHUNK_ITEMS": 25}


class Console:
    """Fresh databases, an app on them for the test's own reads and writes, and worker processes."""

    def __init__(self, test_databases, folder: Path, redis_url: str = REDIS_URL, **config):
        self.urls = test_databases.create()
        self.folder = folder
        self.redis_url = redis_url
        # A queue of this test's own: a worker left by another run on the same Redis database cannot take its jobs.
        self.queue_name = f"console-bulk-test-{uuid.uuid4().hex[:12]}"
        self.app = create_app(config_for(self.urls, QUEUE_URL=redis_url, QUEUE_NAME=self.queue_name,
                                         RECONCILE_AFTER_SECONDS=0, **FAST, **config))
        dbs = self.app.extensions["console_db"]
        upgrade_console(dbs.console_engine)
        create_target_schema(dbs.target_engine)
        Redis.from_url(redis_url).flushdb()
        self.workers: list[subprocess.Popen] = []

    def env(self) -> dict:
        return {**os.environ, "CONSOLE_DATABASE_URL": self.urls["console"], "TARGET_DATABASE_URL": self.urls["target"],
                "CONSOLE_QUEUE_URL": self.redis_url, "CONSOLE_QUEUE_NAME": self.queue_name,
                "SECRET_KEY": "test-secret-key",
                "CONSOLE_AUDIT_KEY": self.app.config["CONSOLE_AUDIT_KEY"],
                **{f"CONSOLE_{key}": str(value) for key, value in FAST.items()},
                "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}

    def start_worker(self) -> subprocess.Popen:
        with open(self.folder / f"worker{len(self.workers)}.log", "w") as log:  # the child keeps its own copy
            worker = subprocess.Popen([sys.executable, "-c", "from console.cli import main; main()", "worker"],
                                      env=self.env(), cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        self.app.extensions["console_db"].dispose()
        # Killed workers leave their registrations (and the queue's) behind: the tests' own Redis database is
        # left empty, as it was found. A Redis a test stopped has nothing to leave.
        try:
            Redis.from_url(self.redis_url, socket_connect_timeout=2).flushdb()
        except RedisError:
            pass

    def context(self):
        """An app context whose sessions the factories use too."""
        ctx = self.app.app_context()
        ctx.push()
        use_sessions(console_session(), target_session())
        return ctx

    def person(self, role: str):
        with self.app.app_context():
            use_sessions(console_session(), target_session())
            user = StaffUserFactory(role=role)
            console_session().commit()
            return console_session().get(type(user), user.id)

    def paid_orders(self, count: int, total_cents: int = 5000) -> list[int]:
        with self.app.app_context():
            session = target_session()
            first = 700_000
            session.execute(insert(Customer).values(id=first, email="bulk-buyer@example.com", name="Bulk Buyer",
                                                    status="active", email_confirmed=True, failed_login_count=0,
                                                    created_at=utcnow(), updated_at=utcnow()))
            session.execute(insert(Order), [
                {"id": first + n, "customer_id": first, "status": "delivered", "currency": "EUR",
                 "total_cents": total_cents, "refunded_cents": 0, "created_at": utcnow(), "updated_at": utcnow(),
                 "status_changed_at": utcnow()} for n in range(count)])
            session.execute(insert(Payment), [
                {"id": first + n, "order_id": first + n, "amount_cents": total_cents, "status": "captured",
                 "provider_ref": f"pay_{n}", "created_at": utcnow()} for n in range(count)])
            session.commit()
            return [first + n for n in range(count)]

    def progress(self, bulk_id: int) -> tuple[str, int]:
        """(the bulk's status, how many of its items are no longer open)."""
        with self.app.app_context():
            session = console_session()
            status = session.scalar(select(Bulk.status).where(Bulk.id == bulk_id))
            done = session.scalar(select(func.count()).select_from(BulkItem).where(
                BulkItem.bulk_id == bulk_id, BulkItem.status.not_in(OPEN_ITEMS)))
            return status, done

    def wait_for(self, bulk_id: int, *, done: int | None = None, timeout: float = 120.0) -> tuple[str, int]:
        """Wait until `done` items are settled (or the bulk is over); the progress then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, settled = self.progress(bulk_id)
            if (done is not None and settled >= done) or status in ("finished", "cancelled", "rejected"):
                return status, settled
            time.sleep(0.05)
        raise AssertionError(f"bulk {bulk_id} is still {self.progress(bulk_id)} after {timeout} s; logs: "
                             + " | ".join((self.folder / f"worker{i}.log").read_text()[-1500:]
                                          for i in range(len(self.workers))))
