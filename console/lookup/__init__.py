"""lookup domain."""


def init_app(app, admin) -> None:
    """Register this domain's views and blueprints."""
