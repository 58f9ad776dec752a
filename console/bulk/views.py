def register_views(app, admin) -> None:
    """Registered once the pages exist."""
