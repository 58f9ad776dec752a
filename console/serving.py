"""Serving the app with gunicorn from inside `support-console serve`."""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


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


def run_gunicorn(app, host: str, port: int) -> None:
    # One worker keeps the default in-memory rate limits correct; threads give concurrency.
    # Several workers need CONSOLE_RATELIMIT_STORAGE_URI pointing at Redis (see SECURITY.md).
    workers = int(os.environ.get("CONSOLE_WORKERS", "1"))
    # With JSON logs the app writes each request's line itself, with its request id.
    accesslog = None if app.config.get("LOG_FORMAT") == "json" else "-"
    _ConsoleServer(app, {"bind": f"{host}:{port}", "workers": workers, "threads": 8,
                         "accesslog": accesslog, "timeout": 60}).run()
