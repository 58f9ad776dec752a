"""Misconfiguration stops start-up: `init`, `serve` and `demo` exit non-zero with one line naming the variable."""
import pytest

import console.serving
from console.config import ConfigError
from console.startup import check_start_up
from tests.committed import make_committed_user
from tests.test_cli import cli_env, invoke  # noqa: F401  (the fixture of a CLI on its own databases)

BAD = [
    ("CONSOLE_AMOUNT_CAPS", '{"agnet": 2000}', "'agnet'"),
    ("CONSOLE_TASK_RATE_LIMITS", '{"no_such_task": "3/hour"}', "'no_such_task'"),
    ("DISABLED_TASKS", "typo", "'typo'"),
]


@pytest.fixture
def no_server(monkeypatch):
    """Fail the test if a command got as far as serving."""
    monkeypatch.setattr(console.serving, "run_gunicorn", lambda *args: pytest.fail("the server started"))
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CONSOLE_AUDIT_KEY", "k" * 40)


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize("variable, value, shown", BAD)
@pytest.mark.parametrize("command", ["init", "serve", "demo"])
def test_an_unknown_role_or_task_stops_start_up(cli_env, no_server, monkeypatch, variable, value, shown, command):
    monkeypatch.setenv(variable, value)

    result = invoke(command, *(["--customers", "0"] if command == "demo" else []))

    assert result.exit_code != 0
    [line] = error_lines(result)
    assert variable in line and shown in line, line


def test_a_rotation_naming_no_enabled_developer_stops_start_up(cli_env, no_server, monkeypatch):
    assert invoke("init").exit_code == 0
    invoke("users", "create", "dev@example.org", "--role", "developer", "--password-stdin",
           input="a long enough password\n")
    invoke("users", "create", "agent@example.org", "--role", "agent", "--password-stdin",
           input="a long enough password\n")
    monkeypatch.setenv("CONSOLE_SUPPORT_ROTATION", "dev@example.org,agent@example.org")

    for result in (invoke("init"), invoke("serve")):
        assert result.exit_code != 0
        [line] = error_lines(result)
        assert "CONSOLE_SUPPORT_ROTATION" in line and "agent@example.org" in line, line


def test_demo_checks_the_rotation_against_its_own_staff(cli_env, no_server, monkeypatch):
    monkeypatch.setenv("CONSOLE_SUPPORT_ROTATION", "nobody@example.org")

    result = invoke("demo", "--customers", "0")

    assert result.exit_code != 0
    assert "CONSOLE_SUPPORT_ROTATION: nobody@example.org is not an enabled developer" in result.output


def test_a_rotation_of_enabled_developers_starts(isolated_app):
    app = isolated_app()
    developer = make_committed_user(app, "developer")
    retired = make_committed_user(app, "developer", active=False)

    app.config["SUPPORT_ROTATION"] = [developer.upper()]
    check_start_up(app)  # no error: emails compare as the rotation does, lower-cased
    app.config["SUPPORT_ROTATION"] = [developer, retired]
    with pytest.raises(ConfigError, match=f"CONSOLE_SUPPORT_ROTATION: {retired} is not an enabled developer"):
        check_start_up(app)
