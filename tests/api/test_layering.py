"""The API is a face beside the pages: no module of console/api imports a page (views) module."""
from __future__ import annotations

import ast
from pathlib import Path

import console.api

API = Path(console.api.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _is_page_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "console" and any(part.startswith("views") or part == "admin" for part in parts[1:])


def test_no_api_module_imports_a_views_module():
    found = {f"{path.name} imports {module}" for path in sorted(API.glob("*.py"))
             for module in _imported_modules(path) if _is_page_module(module)}
    assert not found, sorted(found)


def test_the_check_recognises_a_views_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from console.deflection.views_dashboard import forced_team\nfrom console.tasks import views\n")
    assert {module for module in _imported_modules(sample) if _is_page_module(module)} == {
        "console.deflection.views_dashboard", "console.deflection.views_dashboard.forced_team",
        "console.tasks.views"}
