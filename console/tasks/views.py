"""The task pages' registration: the catalog and task forms, the run pages, the approval queue, and the
home-page sections. The views live in views_form.py and views_runs.py, what they share in pages.py; this
module imports them, never the other way.
"""
from __future__ import annotations

from console.admin.home import HomeSection, add_home_section
from console.permissions import APPROVE_RUNS, LOG_DEV_TIME, RUN_TASKS
from console.tasks.approvals import decision_notices
from console.tasks.checks import TaskError
from console.tasks.pages import console_ticket_url, ticket_link
from console.tasks.presenting import run_amount, task_title
from console.tasks.views_form import TaskCatalogView
from console.tasks.views_runs import ApprovalQueueView, RunHistoryView, pending_runs, recent_runs_of
from console.web import error_page


def _pending_approvals(user) -> dict:
    return {"runs": pending_runs(limit=10), "me": user.email}


def _recent_runs(user) -> dict:
    return {"runs": recent_runs_of(user.email, limit=5)}


def register_views(app, admin) -> None:
    """Add the task views, the run views and the home-page sections."""
    admin.add_view(TaskCatalogView(name="Run a task", category="Tasks", endpoint="tasks", url="/admin/tasks"))
    admin.add_view(RunHistoryView(name="Run history", category="Tasks", endpoint="runs", url="/admin/runs"))
    admin.add_view(ApprovalQueueView(name="Approvals", category="Tasks", endpoint="approvals",
                                     url="/admin/approvals"))
    # A page that does not catch a TaskError (a database failing between a page's statements: database_guard)
    # answers with its status and words, not a 500. The API's blueprint answers in JSON for its own routes.
    app.register_error_handler(TaskError, _task_error_page)
    app.jinja_env.globals.setdefault("ticket_link", ticket_link)
    app.jinja_env.globals.setdefault("console_ticket_url", console_ticket_url)
    app.jinja_env.globals.setdefault("task_title", task_title)
    app.jinja_env.globals.setdefault("run_amount", run_amount)
    add_home_section(app, HomeSection(permission=APPROVE_RUNS, template="tasks/home_approvals.html",
                                      context=_pending_approvals, order=10))
    add_home_section(app, HomeSection(permission=RUN_TASKS, template="tasks/home_recent_runs.html",
                                      context=_recent_runs, order=30))
    add_home_section(app, HomeSection(permission=RUN_TASKS, template="tasks/home_decisions.html",
                                      context=decision_notices, order=5))
    # Developers are the only role with dev time and no task runs; admins see the section too.
    add_home_section(app, HomeSection(permission=LOG_DEV_TIME, template="tasks/home_write_task.html", order=60))


def _task_error_page(exc: TaskError):
    title = "A database is unavailable" if exc.status == 503 else "The request could not be done"
    message = exc.message.rstrip(".")
    return error_page(title, f"{message[:1].upper()}{message[1:]}."), exc.status
