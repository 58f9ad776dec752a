"""Runbooks: Markdown guides in `runbooks/*.md`, loaded, rendered, searched and checked."""


def init_app(app, admin) -> None:
    """Register the runbook views and blueprints."""
