"""Serving the app with gunicorn from inside `support-console serve`.

No database connection may cross a fork. A SQLite connection open in the master when gunicorn
forks leaves the worker with the master's file handles and SQLite's own record of its locks:
after that, the worker's requests answered "database is locked" or hung (7 of 8 fresh starts
did). A PostgreSQL connection shared by two processes interleaves their conversations. So the
master closes every connection before each fork (`init` and `demo-data` run in the same
process under `demo`), each worker starts with empty pools, and whatever runs beside the
requests (the audit checkpoint keeper, the webhook sender) starts inside the worker, never in the master.
"""
from __future__ import annotations

import os
from typing import Callable, Protocol, Sequence

from gunicorn.app.base import BaseApplication

from console.db import databases


class Stoppable(Protocol):
    def stop(self) -> None: ...


class _ConsoleServer(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def fork_hooks(app, in_worker: Sequence[Callable[[], Stoppable | None]] = ()) -> dict:
    """Gunicorn server hooks that keep every database connection on its own side of a fork.

    Each of `in_worker` is called in each worker once it is ready (what it returns, unless None, is
    stopped when the worker exits): a background job that needs the database runs there, not in the master.
    """
    dbs = databases(app)
    running: list[Stoppable] = []

    def pre_fork(_server, _worker):
        dbs.dispose()  # the master serves nothing: whatever start-up left open is closed, not inherited

    def post_worker_init(_worker):
        for start in in_worker:
            job = start()
            if job is not None:
                running.append(job)

    def worker_exit(_server, _worker):
        while running:
            running.pop().stop()

    # The child's side (empty pools after a fork) is Databases' own at-fork hook.
    return {"pre_fork": pre_fork, "post_worker_init": post_worker_init, "worker_exit": worker_exit}


def gunicorn_options(app, host: str, port: int, in_worker: Sequence[Callable[[], Stoppable | None]] = ()) -> dict:
    # One worker keeps the default in-memory rate limits correct; threads give concurrency.
    # Several workers need CONSOLE_RATELIMIT_STORAGE_URI pointing at Redis (see SECURITY.md).
    workers = int(os.environ.get("CONSOLE_WORKERS", "1"))
    # With JSON logs the app writes each request's line itself, with its request id.
    accesslog = None if app.config.get("LOG_FORMAT") == "json" else "-"
    return {"bind": f"{host}:{port}", "workers": workers, "threads": 8, "accesslog": accesslog, "timeout": 60,
            **fork_hooks(app, in_worker)}


def run_gunicorn(app, host: str, port: int, in_worker: Sequence[Callable[[], Stoppable | None]] = ()) -> None:
    """Serve `app` until stopped; each of `in_worker` starts a background job in each worker (see fork_hooks)."""
    databases(app).dispose()
    _ConsoleServer(app, gunicorn_options(app, host, port, in_worker)).run()
