"""The console app as the benchmarks build it, and the one route that exists only in the benchmark.

`/bench/bare/customers/<id>` reads the customer row that the console's customer page shows, with
plain SQLAlchemy Core, and returns it as JSON: no login, no template, no Flask-Admin. It is the
floor of this stack (gunicorn, Flask, SQLAlchemy, the database) that the page is compared with.
The production app never has it: only `serve_from_environment()` adds it, for gunicorn to load as
`bench.http_app:serve_from_environment()`.
"""
from __future__ import annotations

import os

from flask import Flask, abort, jsonify
from sqlalchemy import bindparam, select

from admin_tasks.shop_schema import ShopBase

PASSWORD = "bench-password-1234"
AGENT = "agent@example.com"  # the demo agent of console/demo/staff.py
BARE_PREFIX = "/bench/bare/customers/"
SECRET_KEY = "bench-secret-key"
AUDIT_KEY = "bench-audit-key-" + "k" * 32
CUSTOMERS = ShopBase.metadata.tables["customers"]


def create_bench_app(console_url: str, target_url: str, *, audit_key: str = AUDIT_KEY) -> Flask:
    """The production app factory on the benchmark's databases (no rate limits: one client does everything)."""
    from console import create_app

    return create_app({"SECRET_KEY": SECRET_KEY, "CONSOLE_AUDIT_KEY": audit_key, "RATELIMIT_ENABLED": False,
                       "CONSOLE_DATABASE_URL": console_url, "TARGET_DATABASE_URL": target_url,
                       "SESSION_COOKIE_SECURE": False})


def prepare_console(app: Flask, users: dict[str, str]) -> None:
    """Bring the console schema up to date and create the staff users (email -> role) that are missing."""
    from console.auth.services import create_user, find_user
    from console.db import console_session
    from console.migrations import upgrade_console

    upgrade_console(app.extensions["console_db"].console_engine)
    with app.app_context():
        session = console_session()
        for email, role in users.items():
            if find_user(session, email) is None:
                create_user(session, email, role, PASSWORD, actor="bench")
        session.commit()


def add_bare_route(app: Flask) -> None:
    engine = app.extensions["console_db"].target_engine
    statement = select(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("id"))

    def bare_customer(customer_id: int):
        with engine.connect() as conn:
            row = conn.execute(statement, {"id": customer_id}).mappings().first()
        if row is None:
            abort(404)
        return jsonify(dict(row))

    app.add_url_rule(BARE_PREFIX + "<int:customer_id>", "bench_bare_customer", bare_customer)


def serve_from_environment() -> Flask:
    """What gunicorn loads: the app on BENCH_CONSOLE_URL and BENCH_TARGET_URL, plus the bare route.

    gunicorn builds it once before forking its workers (--preload), as `support-console serve`
    does; the pools are emptied first so that no worker inherits another's connection.
    """
    app = create_bench_app(os.environ["BENCH_CONSOLE_URL"], os.environ["BENCH_TARGET_URL"])
    add_bare_route(app)
    app.extensions["console_db"].dispose()
    return app
