"""Where bulk work runs: on RQ when CONSOLE_QUEUE_URL is set, else in a thread of the serving process.

With a queue, a bulk ready to run is a job on the `console-bulk` queue, and `support-console worker`
processes (any number, on any host) run it (console.bulk.jobs); the serving process never works
through bulks itself, and a new bulk is refused with a 503 while Redis cannot be reached. Without
one, `BulkThread` runs in each serving worker. Both sweep: a bulk whose worker died (its heartbeat is
older than BULK_STALL_SECONDS) is queued again, so it carries on where it stopped.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from console.bulk.leases import worker_name
from console.bulk.settings import queue_url
from console.bulk.working import QueueStalled, claimable_bulks, follow_reconciled_items, work_bulk
from console.db import console_session, expect_writes, target_session
from console.engines import SQLITE_WRITERS_WAITING
from console.tasks.checks import TaskError

log = logging.getLogger(__name__)
JOB = "console.worker.work_bulk_job"
POLL_SECONDS = 1.0
# Between two chunks the embedded worker leaves the database to the requests: on SQLite a thread that
# begins its next write at once takes the single write lock again before any waiting request. It waits
# while requests of this process wait for the lock, at most SQLITE_YIELD_SECONDS, so the bulk goes on too.
SQLITE_PAUSE_SECONDS = 0.01
SQLITE_YIELD_SECONDS = 2.0


def redis_connection(app) -> Redis:
    """The app's Redis client for the bulk queue (one pool per process; redis-py renews it after a fork)."""
    conn = app.extensions.get("bulk_redis")
    if conn is None:
        conn = app.extensions["bulk_redis"] = Redis.from_url(queue_url(app.config), socket_connect_timeout=2,
                                                             socket_timeout=5)
    return conn


def bulk_queue(app) -> Queue:
    return Queue(app.config["QUEUE_NAME"], connection=redis_connection(app))


def ensure_queue_available() -> None:
    """A 503 when bulks go on a queue that cannot be reached now (checked before anything is written)."""
    app = current_app._get_current_object()
    if not queue_url(app.config):
        return
    try:
        redis_connection(app).ping()
    except RedisError as exc:
        raise TaskError(503, "unavailable", "the bulk queue (CONSOLE_QUEUE_URL) cannot be reached "
                                            f"({exc.__class__.__name__}); nothing was queued, retry later") from exc


def enqueue(app, bulk_id: int) -> None:
    bulk_queue(app).enqueue_call(JOB, args=(bulk_id,), timeout=-1, result_ttl=0, failure_ttl=86400,
                                 description=f"bulk {bulk_id}")


def waiting_bulks(app) -> set[int]:
    """The bulks with a job on the queue that no worker has taken yet (RedisError when Redis is down)."""
    return {int(job.args[0]) for job in bulk_queue(app).get_jobs() if job.func_name == JOB and job.args}


def fan_out(app, bulk_id: int) -> bool:
    """Put one more job of the bulk on the queue when a worker listening on it is idle and no job waits for it;
    True when it did. A job asks this each time it claims a chunk, so every worker joins a bulk with
    work left, one after the other (a job that then finds nothing to claim ends at once)."""
    try:
        queue = bulk_queue(app)
        idle = sum(worker.get_state() == "idle" for worker in Worker.all(queue=queue))
        if idle <= queue.count:
            return False
        enqueue(app, bulk_id)
        return True
    except RedisError:  # the job goes on alone; the sweep queues the bulk again if it is lost
        log.warning("bulk %s: another job could not be queued now", bulk_id)
        return False


def dispatch(bulk_id: int) -> None:
    """Start work on a bulk now: a job on the queue, or a nudge to this process's thread.

    A queue that fails here (it answered the ping a moment ago) loses nothing: the bulk is written
    and `queued`, and the workers' sweep queues it again.
    """
    app = current_app._get_current_object()
    if queue_url(app.config):
        try:
            enqueue(app, bulk_id)
        except RedisError:
            log.warning("bulk %s could not be queued now; the workers' sweep will queue it", bulk_id)
        return
    thread = app.extensions.get("bulk_thread")
    if thread is not None:
        thread.wake()


class BulkThread:
    """The embedded worker: works through every bulk with claimable items, then waits for a nudge."""

    def __init__(self, app, poll: float = POLL_SECONDS):
        self.app = app
        self.poll = poll
        self.owner = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bulk-worker", daemon=True)
        sqlite = app.extensions["console_db"].console_engine.dialect.name == "sqlite"
        self.pause = SQLITE_PAUSE_SECONDS if sqlite else 0.0

    def _stopping(self) -> bool:
        """Asked before each chunk: yield to the requests (on SQLite), and say whether to stop."""
        if not self.pause:
            return self._stop.is_set()
        # This context writes, so even the read of the claimed items began with BEGIN IMMEDIATE: a pause
        # inside that transaction held the write lock all along and requests timed out behind it. The
        # target's first: a transaction it begins takes the console's lock too (Databases._console_first).
        target_session().commit()
        console_session().commit()
        deadline = time.monotonic() + SQLITE_YIELD_SECONDS
        while not self._stop.wait(self.pause):
            if not SQLITE_WRITERS_WAITING.count or time.monotonic() >= deadline:
                return False
        return True

    def start(self) -> BulkThread:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)  # within gunicorn's graceful shutdown; an item runs in milliseconds

    def work_once(self) -> int:
        """One pass over the claimable bulks; how many items it ran."""
        ran = 0
        with self.app.app_context():
            expect_writes()
            follow_reconciled_items()
            for bulk_id in claimable_bulks():
                if self._stop.is_set():
                    break
                ran += work_bulk(bulk_id, self.owner, stopping=self._stopping)
        return ran

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.work_once()
            except QueueStalled as exc:
                log.warning("bulk worker: %s; trying again in %s s", exc, self.poll)
            except Exception:  # a database that is down now may be back at the next poll
                log.exception("bulk worker: a pass failed; trying again in %s s", self.poll)
            self._wake.wait(self.poll)
            self._wake.clear()


def start_bulk_thread(app) -> BulkThread | None:
    """Start this process's embedded bulk worker (after any fork); None when bulks go on a queue."""
    if queue_url(app.config):
        return None
    thread = BulkThread(app).start()
    app.extensions["bulk_thread"] = thread
    return thread
