"""The JSON API under /api/v1: bearer tokens or the browser session, one error format.

base.py holds what every route shares; each module below adds its routes to base.bp when imported.
"""
from console.api.base import bp  # noqa: F401  (the blueprint console.create_app registers)
from console.api import runbooks as _runbooks  # noqa: F401  (registers the runbook routes)
from console.api import tickets as _tickets, stats as _stats  # noqa: F401  (ticket outcomes, deflection stats)
from console.api import tasks as _tasks, runs as _runs  # noqa: F401  (task and run routes)
from console.api import audit as _audit  # noqa: F401  (the audit trail)
from console.api import openapi as _openapi  # noqa: F401  (the OpenAPI document of all of the above)
from console.api import records as _records  # noqa: F401  (the product's records)
from console.api import bulk as _bulk  # noqa: F401  (bulk runs)
