"""WSGI entry point: `gunicorn 'wsgi:app'` (SECRET_KEY and CONSOLE_AUDIT_KEY must be set).

A misconfiguration stops it here, once, before any request: create_app checks what the code
knows, check_start_up what the console database knows.
"""
from console import create_app
from console.db import databases
from console.startup import check_start_up

app = create_app()
check_start_up(app)
# With --preload this module is imported in the master, which then forks the workers: it must hold no
# database connection (each engine also drops its parent's pool in a forked child, see console/db.py).
databases(app).dispose()
