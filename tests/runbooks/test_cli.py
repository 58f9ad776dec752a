"""`support-console runbooks check`: exit 0 on the shipped runbooks, 1 on a broken one."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from console.cli import main
from tests.runbooks.conftest import GOOD_FRONT


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSOLE_DATABASE_URL", f"sqlite:///{tmp_path}/console.db")
    monkeypatch.setenv("TARGET_DATABASE_URL", f"sqlite:///{tmp_path}/shop.db")
    monkeypatch.setenv("CONSOLE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("RUNBOOKS_DIR", raising=False)
    return tmp_path


def check(*args):
    return CliRunner().invoke(main, ["runbooks", "check", *args], catch_exceptions=False)


def test_shipped_runbooks_pass_against_the_real_task_plugins(cli_env):
    result = check()

    assert result.exit_code == 0, result.output
    assert " 0 errors" in result.output.splitlines()[-1]


def test_a_broken_runbook_fails_and_names_file_and_line(cli_env):
    folder = cli_env / "books"
    folder.mkdir()
    (folder / "good.md").write_text(f"---\n{GOOD_FRONT}---\n[Unlock](task:unlock_account?email={{customer.email}})\n")
    (folder / "bad.md").write_text(f"---\n{GOOD_FRONT.replace('unlock_account', 'unlock_everything')}---\n"
                                   "<script>alert(1)</script>\n")

    result = check("--dir", str(folder))

    assert result.exit_code == 1
    assert f"{folder / 'bad.md'}:8: error: unknown task 'unlock_everything'" in result.output
    assert f"{folder / 'bad.md'}:12: error: unsafe HTML: <script> is not allowed" in result.output
    assert "2 runbooks checked" in result.output and "2 errors" in result.output


def test_runbooks_dir_is_read_from_the_environment(cli_env, monkeypatch):
    folder = cli_env / "env-books"
    folder.mkdir()
    (folder / "old.md").write_text(f"---\n{GOOD_FRONT.replace('2026-11-01', '2020-01-01')}---\nBody.\n")
    monkeypatch.setenv("RUNBOOKS_DIR", str(folder))

    result = check()

    assert result.exit_code == 0  # an overdue review warns but does not fail
    assert "warning: last reviewed" in result.output and "1 warning" in result.output


def test_a_missing_folder_fails(cli_env):
    result = check("--dir", str(cli_env / "nowhere"))

    assert result.exit_code == 1 and "runbooks directory not found" in result.output
