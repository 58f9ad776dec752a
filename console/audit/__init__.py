"""The tamper-evident audit trail: append, checkpoints, verify, and its read-only views."""
from __future__ import annotations

import os

from flask import Flask, jsonify, render_template, request

from console.audit.chain import AuditUnavailable
from console.config import whole_number

UNAVAILABLE = ("The audit trail cannot be written right now, so nothing was done: every change must be "
               "audited first. Try again in a minute; if it keeps happening, tell an admin.")


def _positive_setting(app: Flask, name: str, env: str, default: int) -> None:
    app.config[name] = whole_number(app.config.get(name, os.environ.get(env, default)), env)


def _audit_unavailable(exc: AuditUnavailable):
    if request.path.startswith("/api/"):
        body = {"error": {"code": "audit_unavailable", "message": UNAVAILABLE, "fields": {}}}
        return jsonify(body), 503
    return render_template("error.html", title="The audit trail is unavailable", message=UNAVAILABLE), 503


def init_app(app: Flask, admin) -> None:
    """Register this domain's views and blueprints."""
    from console.admin.home import HomeSection, add_home_section
    from console.audit.views import AuditTrailView, home_context
    from console.permissions import READ_AUDIT

    _positive_setting(app, "AUDIT_CHECKPOINT_EVERY", "CONSOLE_AUDIT_CHECKPOINT_EVERY", 1000)
    _positive_setting(app, "AUDIT_CHECKPOINT_MINUTES", "CONSOLE_AUDIT_CHECKPOINT_MINUTES", 60)
    # Sessions carry the app's configuration so that append can sign checkpoints wherever it
    # runs: in a request, a command, or a test session with no app context.
    factory = app.extensions["console_db"].console_factory
    factory.configure(info={**factory.kw.get("info", {}), "console_config": app.config})
    app.register_error_handler(AuditUnavailable, _audit_unavailable)
    admin.add_view(AuditTrailView(name="Audit trail", endpoint="audit", url="/admin/audit"))
    # Every role that may verify may also read the trail, so one section serves both.
    add_home_section(app, HomeSection(permission=READ_AUDIT, template="audit/home_section.html",
                                      context=home_context, order=80))
