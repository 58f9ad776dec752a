"""WSGI entry point: `gunicorn 'wsgi:app'` (SECRET_KEY and CONSOLE_AUDIT_KEY must be set)."""
from console import create_app
from console.db import databases

app = create_app()
# With --preload this module is imported in the master, which then forks the workers: it must hold no
# database connection (each engine also drops its parent's pool in a forked child, see console/db.py).
databases(app).dispose()
