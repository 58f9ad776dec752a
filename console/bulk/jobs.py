"""The RQ side: the job that works through a bulk, and `run_worker`, the `support-console worker` loop.

A bulk is one job when queued; each job that claims a chunk puts another on the queue while a worker
listening on it is idle (`fan_out`), so that every worker shares the bulk's chunks.

A worker is an RQ SimpleWorker (the job runs in the worker's own process, so a killed worker takes its
job with it; the items it held are taken over when their leases end) plus a sweeper thread that queues
again the bulks whose worker died, BULK_SWEEP_SECONDS apart, and once at start. RQ quits when Redis goes
away; the worker then waits for Redis and starts listening again, so that bulks queued meanwhile run.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import SimpleWorker

from console.bulk.leases import worker_name
from console.bulk.queue import bulk_queue, enqueue, fan_out, redis_connection, waiting_bulks
from console.bulk.working import follow_reconciled_items, stalled_bulks, work_bulk
from console.db import expect_writes

log = logging.getLogger(__name__)
_APP: dict[str, Flask] = {}


def worker_app() -> Flask | None:
    """The app `run_worker` serves in this process, if it runs one (console.worker's job takes it)."""
    return _APP.get("app")


def work_bulk_job_with(app: Flask, bulk_id: int) -> int:
    """The job's work: the bulk's chunks, fanning out to idle workers as each is claimed."""
    with app.app_context():
        expect_writes()
        return work_bulk(int(bulk_id), worker_name(), claimed=lambda: fan_out(app, int(bulk_id)))


def sweep(app: Flask) -> list[int]:
    """Queue again every bulk whose worker died; the bulks queued.

    A bulk whose job still waits on the queue (every worker is busy) has no worker yet but has not lost one:
    queueing it again on each sweep would pile up jobs for it, so it is left to the job it has."""
    with app.app_context():
        expect_writes()
        follow_reconciled_items()
        stalled = stalled_bulks(skip=waiting_bulks(app))
    for bulk_id in stalled:
        enqueue(app, bulk_id)
        log.info("bulk %s had no worker for a while: queued again", bulk_id)
    return stalled


class Sweeper:
    def __init__(self, app: Flask):
        self.app = app
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bulk-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sweep(self.app)
            except Exception:  # Redis or a database down: the next sweep tries again
                log.exception("bulk sweeper: the sweep failed")
            self._stop.wait(self.app.config.get("BULK_SWEEP_SECONDS", 15))


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """Work bulk jobs from the queue until stopped (with burst: until the queue is empty)."""
    _APP["app"] = app
    try:
        sweep(app)  # a restarted worker picks up what the one before it left, without waiting for the sweeper
    except Exception:
        log.exception("bulk sweeper: the first sweep failed")
    sweeper = Sweeper(app).start() if not burst else None
    try:
        while True:
            worker = SimpleWorker([bulk_queue(app)], connection=redis_connection(app))
            try:
                worker.work(burst=burst, with_scheduler=False)
            except RedisError:  # RQ quit on a lost Redis, and could not even say so to it
                log.warning("bulk worker: Redis went away; waiting for it to come back")
            finally:
                thread = getattr(worker, "pubsub_thread", None)
                if thread is not None:  # left retrying on its own otherwise, keeping a dead worker alive
                    thread.stop()
            if burst or worker._stop_requested or not _redis_back(app, worker):
                return
    finally:
        if sweeper is not None:
            sweeper.stop()


def _redis_back(app: Flask, worker: SimpleWorker, most_seconds: float = 30.0) -> bool:
    """Wait for Redis to answer (doubling pauses, at most `most_seconds` each); False when asked to stop first."""
    pause = 1.0
    while not worker._stop_requested:  # its signal handlers stay installed: SIGTERM still stops the process
        try:
            redis_connection(app).ping()
            return True
        except RedisError:
            time.sleep(pause)
            pause = min(2 * pause, most_seconds)
    return False
