"""Bulk runs: one audited, approved action over many targets, each item a task run of its own.

planning.py checks a bulk whole and previews it; service.py requests, decides, cancels and reads
bulks; working.py runs items exactly once, on the leases leases.py claims them under; queue.py and jobs.py
say where the work happens (RQ with CONSOLE_QUEUE_URL, else a thread of the serving process); cli.py is
`tasks bulk` and `worker`.
"""
from __future__ import annotations

from console.bulk.settings import load_bulk_config


def init_app(app, admin) -> None:
    """Read the bulk settings (a bad one stops start-up) and register the bulk pages."""
    from console.bulk.views import register_views

    load_bulk_config(app.config)
    register_views(app, admin)
