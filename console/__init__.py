"""Support Console: audited self-service tasks, runbooks and deflection tracking."""
from __future__ import annotations

from flask import Flask

from console.config import load_config

DOMAINS = ("observability", "auth", "product", "lookup", "tasks", "audit", "runbooks", "deflection", "bulk")


def create_app(config: dict | None = None, *, instance_secrets: bool = False) -> Flask:
    """Create the app: read the configuration, wire the extensions, register every domain."""
    from importlib import import_module

    from console import admin as admin_wiring, db, web
    from console.admin.api_reference import ApiDocument, add_api_reference
    from console.api import bp as api_bp
    from console.api.openapi import openapi_document
    from console.api.reference import build_reference, schema_anchor
    from console.extensions import csrf, limiter
    from console.flask_app import ConsoleFlask

    app = ConsoleFlask(__name__, instance_path=None)
    app.config.update(load_config(config, instance_secrets=instance_secrets))
    app.config["RATELIMIT_STORAGE_URI"] = app.config["CONSOLE_RATELIMIT_STORAGE_URI"]
    app.config.setdefault("RATELIMIT_ENABLED", True)

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    web.init_app(app)
    admin = admin_wiring.init_admin(app)
    for name in DOMAINS:
        import_module(f"console.{name}").init_app(app, admin)
    app.register_blueprint(api_bp)
    add_api_reference(admin, ApiDocument(openapi_document, build_reference, schema_anchor))
    return app
