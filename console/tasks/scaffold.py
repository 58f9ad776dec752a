"""`tasks new NAME`: a plugin and its test named for the task, on a record of the product package.

The scaffold is a real, small task: it sets one column of one record (offered on that record's page), refuses
when the column already holds the value, and can be undone. The column and the sample values come from the
product: its declared record, the table as the target database has it, and the package's demo records, so the
generated test passes as it is, on any product. The author then changes both files into the task they want.
"""
from __future__ import annotations

import importlib.util
import json
from datetime import datetime
from pathlib import Path
from string import Template

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from console.product.loading import Product
from console.product.schema import python_type_of
from console.tasks.context import thing

TEMPLATES = Path(__file__).resolve().parent / "templates_new"
# A key no demo record has, for the "unknown record" test.
MISSING_KEYS = {int: 999_999_999, str: "no-such-key"}


class ScaffoldError(ValueError):
    """The scaffold cannot be written; `field` names the option (or NAME) to change."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _python_type(column: dict):
    """The column's Python type when a scaffold can fill it (bool, int, str); None otherwise."""
    python_type = python_type_of(column["type"])
    return python_type if python_type in (bool, int, str) else None


def _fixed_columns(inspector, table: str) -> set[str]:
    """Columns a first version should not set: unique ones and foreign keys (the key is excluded anyway)."""
    fixed = {name for key in inspector.get_foreign_keys(table) for name in key.get("constrained_columns") or []}
    unique = set(inspector.get_pk_constraint(table).get("constrained_columns") or [])
    for found in (*inspector.get_unique_constraints(table),
                  *(index for index in inspector.get_indexes(table) if index.get("unique"))):
        names = found.get("column_names") or []
        if len(names) == 1:
            unique.add(names[0])
    return fixed | unique


def _pick_column(record, columns: dict[str, dict], fixed: set[str], row: dict, wanted: str | None) -> str:
    """The column the scaffold sets: the one asked for, else a status-like (badged) one, else the first plain one."""
    def settable(name: str) -> bool:
        return (name in columns and name != record.key and name not in record.personal and name not in record.money
                and _python_type(columns[name]) is not None and row.get(name) is not None)

    if wanted:
        if not settable(wanted) or wanted in fixed:
            raise ScaffoldError("--column", f"{wanted!r} is not a column of {record.table!r} the scaffold can set "
                                            "(a text, number or yes/no column, not the key, a unique, foreign key, "
                                            "personal or money column, with a value in the demo record)")
        return wanted
    for name in [*record.badges, *columns]:
        if settable(name) and name not in fixed:
            return name
    raise ScaffoldError("--record", f"{record.name!r} has no column the scaffold can set; pass another --record")


def _new_value(record, column: str, python_type, current, length: int | None):
    choices = [value for value in record.badges.get(column, {}) if value != current]
    if choices:
        return choices[0]
    if python_type is bool:
        return not current
    if python_type is int:
        return current + 1
    text = "Changed by support"[:length or None]
    return text if text != current else text.lower()


def scaffold_values(product: Product, engine: Engine, *, name: str, title: str, record_name: str | None,
                    column_name: str | None, now: datetime) -> dict[str, str]:
    """The values templates_new/ is filled with: names from NAME, the record, the column and sample values."""
    record_name = record_name or next(iter(product.records))
    record = product.records.get(record_name)
    if record is None:
        raise ScaffoldError("--record", f"{record_name!r} is not a record of PRODUCT_PACKAGE {product.package} "
                                        f"({', '.join(product.records)})")
    row = next((values for table, values in product.demo_records(now) if table == record.table), None)
    if row is None:
        raise ScaffoldError("--record", f"PRODUCT_PACKAGE {product.package} has no demo record in {record.table!r} "
                                        "(its demo_records hook), which the generated test runs on")
    inspector = inspect(engine)
    columns = {column["name"]: column for column in inspector.get_columns(record.table)}
    column = _pick_column(record, columns, _fixed_columns(inspector, record.table), row, column_name)
    python_type = _python_type(columns[column])
    key_type = _python_type(columns[record.key]) if record.key in columns else None
    if key_type not in MISSING_KEYS:
        raise ScaffoldError("--record", f"{record.name!r}: the scaffold needs a number or text key, not "
                                        f"{columns.get(record.key, {}).get('type')}")
    current = row[column]
    value = _new_value(record, column, python_type, current, getattr(columns[column]["type"], "length", None))
    noun = thing(record.name)
    key_param = f"{noun.replace(' ', '_')}_{record.key}" if record.key == "id" else record.key
    words = column.replace("_", " ")
    badges = list(record.badges.get(column, {}))
    annotation = f"Literal[{', '.join(map(_literal, badges))}]" if badges else python_type.__name__
    return {
        "name": name, "title_literal": json.dumps(title, ensure_ascii=False), "doc_title": _doc(title),
        "record": record.name, "table": record.table, "key": record.key, "key_param": key_param,
        "key_type": key_type.__name__, "key_label": json.dumps(f"{noun.capitalize()} {record.key}"),
        "column": column, "column_param": f"new_{column}", "column_type": annotation, "column_label": json.dumps(f"New {words}"),
        "column_words": words, "noun": noun, "noun_slug": noun.replace(" ", "_"),
        "typing_import": "Annotated, Literal" if badges else "Annotated",
        "key_value": _literal(row[record.key]), "current": _literal(current), "value": _literal(value),
        "missing_key": _literal(MISSING_KEYS[key_type]),
    }


def _literal(value) -> str:
    """A value as Python source, strings in double quotes as the rest of the plugin."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _doc(text: str) -> str:
    """Text that can sit inside a triple-quoted docstring."""
    return text.replace('"', "'").replace("\\", "/")


def package_dir(package: str) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ScaffoldError("TASK_PACKAGES", f"{package!r} is not an importable package")
    return Path(list(found.submodule_search_locations)[0])


def write_task_files(values: dict[str, str], *, folder: str, label: str, package: str) -> tuple[Path, Path]:
    """Write the plugin and its test from templates_new/; refuse to overwrite anything."""
    name = values["name"]
    root = package_dir(package)
    plugin = root / folder / f"{name}.py"
    clash = next(iter(sorted(root.rglob(f"{name}.py"))), None)
    if clash is not None:
        raise ScaffoldError("NAME", f"{clash} already exists; choose another name")
    tests_root = root.parent / "tests"
    # Tests mirror the code: admin_tasks/orders/x.py is tested in tests/admin_tasks/orders/test_x.py.
    tests_package = (tests_root if tests_root.is_dir() else Path.cwd() / "tests") / package.rsplit(".", 1)[-1]
    test_dir = tests_package / folder
    test = test_dir / f"test_{name}.py"
    if test.exists():
        raise ScaffoldError("NAME", f"{test} already exists; choose another name")
    values = dict(values, category_literal=json.dumps(label, ensure_ascii=False))
    plugin_text = Template((TEMPLATES / "task.py.tmpl").read_text()).substitute(values)
    test_text = Template((TEMPLATES / "test_task.py.tmpl").read_text()).substitute(values)
    words = folder.replace("_", " ")
    for directory, doc in ((plugin.parent, f"Tasks: {words}."), (tests_package, f"Tests of the {package} plugins."),
                           (test_dir, f"Tests of the tasks: {words}.")):
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / "__init__.py").exists():
            (directory / "__init__.py").write_text(f'"""{doc}"""\n')
    plugin.write_text(plugin_text)
    try:
        test.write_text(test_text)
    except OSError:
        plugin.unlink()  # nothing half-written: a plugin without its test is not what was asked for
        raise
    return plugin, test
