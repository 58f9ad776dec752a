"""Whether the tasks fit the product package: the record each is offered on, the emails each sends.

A task offered on a record the package does not declare would never be offered; an email template the
package does not declare (EMAIL_TEMPLATES) would reach a mailer that cannot send it. Both are found when the
plugins are loaded, so start-up and `tasks check` name them, never a run. Templates are read from the plugin's
source, so a task names each template it sends as a string.
"""
from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable

from console.product.loading import Product
from console.tasks.spec import TaskSpec


def fit_problems(specs: Iterable[TaskSpec], product: Product) -> list[tuple[str, str]]:
    """(file, message) for each task that does not fit the product; [] when all do."""
    specs = list(specs)
    problems = []
    for spec in specs:
        if spec.offered_on and spec.offered_on not in product.records:
            problems.append((spec.file, f"task {spec.name!r}: field 'offered_on': {spec.offered_on!r} is not a "
                                        f"record of PRODUCT_PACKAGE {product.package} "
                                        f"({', '.join(sorted(product.records))})"))
    tasks_by_module: dict[str, dict[str, TaskSpec]] = {}
    for spec in specs:
        tasks_by_module.setdefault(spec.module, {})[spec.fn.__name__] = spec
    for module_name, tasks in tasks_by_module.items():
        file = next(iter(tasks.values())).file
        for function, line, template in sent_templates(sys.modules.get(module_name)):
            where = f"task {tasks[function].name!r}" if function in tasks else f"function {function!r}"
            if template is None:
                problems.append((file, f"{where}: send_email at line {line} must name its template as a string, "
                                       "so that it can be checked against EMAIL_TEMPLATES"))
            elif template not in product.email_templates:
                declared = ", ".join(sorted(product.email_templates)) or "none"
                problems.append((file, f"{where}: email template {template!r} (line {line}) is not in "
                                       f"PRODUCT_PACKAGE {product.package}'s EMAIL_TEMPLATES ({declared})"))
    return problems


def sent_templates(module) -> list[tuple[str, int, str | None]]:
    """(enclosing function, line, template or None when not a literal) of every `.send_email(...)` in a module."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):  # no source to read (a module built in memory): nothing to check
        return []
    found: list[tuple[int, tuple[str, int, str | None]]] = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "send_email":
                found.append((id(node), (function.name, node.lineno, _template(node))))
    # A call inside a nested function is seen from each enclosing one, the outer first; keep the innermost.
    return sorted(dict(found).values(), key=lambda entry: entry[1])


def _template(call: ast.Call) -> str | None:
    argument = next((keyword.value for keyword in call.keywords if keyword.arg == "template"), None)
    if argument is None and len(call.args) > 1:
        argument = call.args[1]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    return None
