"""The one table of what each role may do; every page, API route and CLI command asks it.

It imports nothing and stands outside console/auth: the audit trail (which auth writes to) and the
admin wiring (which auth's pages build on) ask it too, so inside auth it would tie them in a loop.
"""
from __future__ import annotations

RUN_TASKS = "tasks.run"  # low- and medium-risk tasks
REQUEST_HIGH_RISK = "tasks.request_high_risk"
APPROVE_RUNS = "runs.approve"
UNDO_RUNS = "runs.undo"
LOOKUP = "lookup.read"  # runbooks, customers and orders
REVEAL_PII = "lookup.reveal"
READ_AUDIT = "audit.read"
VERIFY_AUDIT = "audit.verify"
READ_STATS = "stats.read"  # the whole-team dashboard
READ_TEAM_STATS = "stats.read_team"  # an agent's own-team view
WORK_TICKETS = "tickets.work"
LOG_DEV_TIME = "tickets.log_dev_time"
MANAGE_SPRINTS = "sprints.manage"  # record a sprint's story points (velocity, against the support tax)
MANAGE_USERS = "users.manage"
VIEW_METRICS = "metrics.read"  # scraping /metrics with one's API token

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({RUN_TASKS, REQUEST_HIGH_RISK, LOOKUP, REVEAL_PII, READ_TEAM_STATS, WORK_TICKETS}),
    "lead": frozenset(
        {RUN_TASKS, REQUEST_HIGH_RISK, APPROVE_RUNS, UNDO_RUNS, LOOKUP, REVEAL_PII, READ_AUDIT, READ_STATS,
         READ_TEAM_STATS, WORK_TICKETS}
    ),
    # Product owners see aggregates only: no task runs and never unmasked personal data.
    "product_owner": frozenset({LOOKUP, READ_STATS, READ_TEAM_STATS, MANAGE_SPRINTS}),
    "developer": frozenset({LOOKUP, REVEAL_PII, READ_AUDIT, READ_STATS, READ_TEAM_STATS, LOG_DEV_TIME}),
    "admin": frozenset(
        {RUN_TASKS, REQUEST_HIGH_RISK, APPROVE_RUNS, UNDO_RUNS, LOOKUP, REVEAL_PII, READ_AUDIT, VERIFY_AUDIT,
         READ_STATS, READ_TEAM_STATS, WORK_TICKETS, LOG_DEV_TIME, MANAGE_USERS, VIEW_METRICS, MANAGE_SPRINTS}
    ),
}

# How people read a role on pages and in forms; the slugs stay in the database, the API and the CLI's arguments.
ROLE_TITLES = {"agent": "Agent", "lead": "Lead", "product_owner": "Product owner", "developer": "Developer",
               "admin": "Admin"}


def role_title(role: str | None) -> str:
    return ROLE_TITLES.get(role or "") or str(role or "").replace("_", " ").capitalize()


def role_refusal(role: str | None, what: str) -> str:
    """A refusal as people read it, the role by its title: "your role (Product owner) may not run refund_order"."""
    return f"your role ({role_title(role or 'anonymous')}) may not {what}"


def role_can(role: str | None, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role or "", frozenset())


def user_can(user, permission: str) -> bool:
    """True when an authenticated, active user's role grants the permission."""
    # Resolve Flask-Login's current_user proxy once: each attribute read through it looks the user up
    # again, and a page's menu asks this question a few dozen times.
    resolve = getattr(user, "_get_current_object", None)
    if resolve is not None:
        user = resolve()
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return role_can(user.role, permission)
