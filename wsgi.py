"""WSGI entry point: `gunicorn 'wsgi:app'` (SECRET_KEY and CONSOLE_AUDIT_KEY must be set)."""
from console import create_app

app = create_app()
