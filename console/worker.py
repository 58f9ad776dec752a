"""The RQ job's entry point, at the top of the house beside console/cli.py.

RQ imports the job by its dotted name (console.bulk.queue.JOB) in the worker process. A worker started by
`support-console worker` already holds its app (console.bulk.jobs.run_worker); a plain `rq worker` has none,
so the job makes one from the environment, which is why this module, and not the bulk domain, may import
`console.create_app`.
"""
from __future__ import annotations

from flask import Flask

from console import create_app
from console.bulk.jobs import work_bulk_job_with, worker_app

_MADE: dict[str, Flask] = {}


def work_bulk_job(bulk_id: int) -> int:
    app = worker_app()
    if app is None:
        app = _MADE.get("app") or _MADE.setdefault("app", create_app(instance_secrets=True))
    return work_bulk_job_with(app, bulk_id)
