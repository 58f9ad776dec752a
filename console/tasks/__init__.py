"""The task plugin framework: the ONLY module that task plugins import.

    from console.tasks import Money, Param, Refusal, TaskContext, format_money, task

A plugin declares one decorated function per task (see admin_tasks/ and docs); discovery,
forms, the runner, the audit and approvals live behind this API.
"""
from __future__ import annotations

from console.product.money import format_money
from console.tasks.context import TaskContext
from console.tasks.params import Email, Money, Param, Secret
from console.tasks.spec import Refusal, task

# format_money: how a task words an amount in its messages ("EUR 250.00"), as the pages show it.
__all__ = ["Email", "Money", "Param", "Refusal", "Secret", "TaskContext", "format_money", "task", "init_app"]


def init_app(app, admin) -> None:
    """Build this app's task registry from TASK_PACKAGES, then register the task views, API and CLI."""
    from console.tasks.tables import TargetTables
    from console.tasks.registry import discover
    from console.tasks.settings import check_task_names, load_task_settings

    load_task_settings(app.config)
    # Raises TaskDefinitionError naming the plugin file: a broken plugin, or one offered on a record (or sending
    # an email) the product package does not declare, stops start-up.
    app.extensions["task_registry"] = discover(app.config["TASK_PACKAGES"], app.config.get("DISABLED_TASKS", ()),
                                               app.extensions["product"])
    check_task_names(app.config, app.extensions["task_registry"])
    app.extensions["task_tables"] = TargetTables()

    # ---- Views, API routes and CLI commands of the tasks domain: register them below. ----
    # (Owned by the web/API/CLI helper; the registry above is ready to use here.)
    from console.tasks.views import register_views

    register_views(app, admin)
