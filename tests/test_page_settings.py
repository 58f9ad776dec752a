"""Pages name settings as the README documents them: the environment variable a reader can set."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"(?<![/\w])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b(?!\.\w)")  # not a file: docs/WRITING_TASKS.md
CODE = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)  # comments and expressions are not page text


def test_every_setting_a_page_names_is_a_documented_environment_variable():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    named = {(path.relative_to(ROOT).as_posix(), name)
             for path in (ROOT / "console" / "templates").rglob("*.html")
             for name in SETTING.findall(CODE.sub("", path.read_text()))}
    assert {(path, name) for path, name in named if name not in documented} == set()
