"""Discovery: scan TASK_PACKAGES for `@task` functions and build the app's registry.

The registry belongs to the app (`app.extensions["task_registry"]`); nothing is kept in
module globals, so two apps (or two tests) never see each other's tasks.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Iterable, Iterator

from flask import current_app

from console.permissions import REQUEST_HIGH_RISK, RUN_TASKS, user_can
from console.product.loading import Product
from console.tasks.fit import fit_problems
from console.tasks.spec import TaskDefinitionError, TaskSpec, build_spec


class TaskRegistry:
    """The tasks one app knows, by name; disabled tasks are kept but never resolved."""

    def __init__(self, specs: Iterable[TaskSpec], disabled: Iterable[str] = ()):
        self._specs = {spec.name: spec for spec in specs}
        self.disabled = frozenset(disabled)
        # Names in DISABLED_TASKS that match no task: they stop start-up (console.tasks.settings).
        self.unknown_disabled = sorted(self.disabled - set(self._specs))
        # The enabled tasks' order, and which are offered on each record, decided once: every record page
        # asks, and sorting and filtering all tasks there cost it about 150 Python calls. Names, not specs,
        # so that a spec replaced under its name (as tests do) is the one served.
        self._enabled = [s.name for s in self.all_specs() if s.name not in self.disabled]
        self._on_record: dict[str, list[str]] = {}
        for name in self._enabled:
            self._on_record.setdefault(self._specs[name].offered_on, []).append(name)
        self._offered_by_role: dict[tuple[str, str], tuple[tuple, list[TaskSpec]]] = {}

    def get(self, name: str) -> TaskSpec | None:
        """The enabled task of this name, else None."""
        if name in self.disabled:
            return None
        return self._specs.get(name)

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __iter__(self) -> Iterator[TaskSpec]:
        """Enabled tasks, by category then title."""
        specs = self._specs
        return (specs[name] for name in self._enabled)

    def __len__(self) -> int:
        return len(self._enabled)

    def all_specs(self) -> list[TaskSpec]:
        """Every discovered task, disabled ones included (for `tasks list`)."""
        return sorted(self._specs.values(), key=lambda s: (s.category.lower(), s.title.lower()))

    def for_user(self, user) -> list[TaskSpec]:
        """The enabled tasks this user may run (or request, when they need approval)."""
        return [spec for spec in self if may_run(user, spec)]

    def offered_on(self, record: str, user) -> list[TaskSpec]:
        """The enabled tasks offered on this record that the user may run."""
        specs = self._specs
        offered = tuple([specs[name] for name in self._on_record.get(record, ())])
        if not offered or user is None or not getattr(user, "is_authenticated", False) \
                or not getattr(user, "is_active", False):
            return [spec for spec in offered if may_run(user, spec)]
        # may_run answers by the role alone for an active user: asked for each task on every record page
        # (about fifty Python calls), it is answered once per record and role, while the specs are the same.
        key = (record, user.role)
        found = self._offered_by_role.get(key)
        if found is None or found[0] != offered:
            found = self._offered_by_role[key] = (offered, [spec for spec in offered if may_run(user, spec)])
        return list(found[1])

    def by_category(self, user=None) -> dict[str, list[TaskSpec]]:
        grouped: dict[str, list[TaskSpec]] = {}
        for spec in (self.for_user(user) if user is not None else self):
            grouped.setdefault(spec.category, []).append(spec)
        return grouped


def may_run(user, spec: TaskSpec, risk: str | None = None) -> bool:
    """True when the user's role is among the task's roles and the permission table allows the risk.

    Without a known risk (a risk that depends on the parameters), either permission will do;
    the runner checks again once the parameters are known.
    """
    if user is None or getattr(user, "role", None) not in spec.roles:
        return False
    risk = risk or (spec.risk if isinstance(spec.risk, str) else None)
    if risk == "high":
        return user_can(user, REQUEST_HIGH_RISK)
    if risk is None:
        return user_can(user, RUN_TASKS) or user_can(user, REQUEST_HIGH_RISK)
    return user_can(user, RUN_TASKS)


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _import(name: str, where: str):
    try:
        return importlib.import_module(name)
    except Exception as exc:  # a plugin that does not even import must still name its file
        origin = where
        if isinstance(exc, SyntaxError) and getattr(exc, "filename", None):
            origin = f"{_relative(exc.filename)}:{exc.lineno}"
        raise TaskDefinitionError(origin, f"cannot import {name} ({exc.__class__.__name__}: {exc})") from exc


class _Scan:
    """One pass over the packages; raises at the first mistake, or collects them all (`tasks check`)."""

    def __init__(self, collect: bool):
        self.collect = collect
        self.errors: list[TaskDefinitionError] = []
        self.specs: dict[str, TaskSpec] = {}
        self.seen_modules: set[str] = set()

    def fail(self, error: TaskDefinitionError) -> None:
        if not self.collect:
            raise error
        self.errors.append(error)

    def package(self, package_name: str) -> None:
        try:
            package = _import(package_name, package_name.replace(".", "/"))
        except TaskDefinitionError as exc:
            return self.fail(exc)
        self.module(package)
        for info in sorted(pkgutil.walk_packages(getattr(package, "__path__", None) or [],
                                                 prefix=package.__name__ + ".", onerror=lambda name: None),
                           key=lambda i: i.name):
            leaf = info.name.rsplit(".", 1)[-1]
            if leaf.startswith(("_", "test_")) or leaf in ("conftest", "tests"):
                continue
            where = _relative(str(Path(info.module_finder.path) / (leaf + ("/__init__.py" if info.ispkg else ".py"))))
            try:
                self.module(_import(info.name, where))
            except TaskDefinitionError as exc:
                self.fail(exc)

    def module(self, module) -> None:
        if module.__name__ in self.seen_modules:
            return
        self.seen_modules.add(module.__name__)
        file = _relative(getattr(module, "__file__", None) or module.__name__)
        for _attr, fn in inspect.getmembers(module, inspect.isfunction):
            # A task imported into another module belongs to the module that defines it.
            if getattr(fn, "__task_spec__", None) is None or fn.__module__ != module.__name__:
                continue
            try:
                spec = build_spec(fn, file)
            except TaskDefinitionError as exc:
                self.fail(exc)
                continue
            if spec.name in self.specs:
                self.fail(TaskDefinitionError(
                    file, f"task {spec.name!r} is already defined in {self.specs[spec.name].file}; "
                          "task names must be unique (pass name=... to @task)"))
                continue
            self.specs[spec.name] = spec


def _names(value: Iterable[str] | str) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return list(value or ())


def discover(packages: Iterable[str] | str, disabled: Iterable[str] | str = (), product: Product | None = None
             ) -> TaskRegistry:
    """Import every module under the packages and build their tasks; raise TaskDefinitionError on any mistake,
    a task that does not fit the product package (console.tasks.fit) included."""
    importlib.invalidate_caches()  # plugin files written since start-up (`tasks new`) must be seen
    scan = _Scan(collect=False)
    for package_name in _names(packages):
        scan.package(package_name)
    misfits = fit_problems(scan.specs.values(), product) if product is not None else []
    if misfits:
        raise TaskDefinitionError(*misfits[0])
    return TaskRegistry(scan.specs.values(), _names(disabled))


def check_packages(packages: Iterable[str] | str, product: Product | None = None) -> list[tuple[str, str]]:
    """Every invalid plugin under the packages, and every task that does not fit the product package, as
    (file, message) pairs; [] when all are valid. No app needed."""
    importlib.invalidate_caches()
    scan = _Scan(collect=True)
    for package_name in _names(packages):
        scan.package(package_name)
    problems = [(error.file, error.detail) for error in scan.errors]
    return problems + (fit_problems(scan.specs.values(), product) if product is not None else [])


def task_registry(app=None) -> TaskRegistry:
    """The registry of the given (or current) app."""
    return (app or current_app).extensions["task_registry"]

