"""Tasks fit the product package: offered on a record it declares, sending only the emails it declares."""
import re
import uuid

import pytest
from click.testing import CliRunner

from console import create_app
from console.cli import main
from console.tasks.spec import TaskDefinitionError

HEADER = "from console.tasks import Email, TaskContext, task\n\n\n"
OFFERED_ON_GHOSTS = HEADER + (
    '@task(title="Haunt", offered_on="ghosts")\n'
    'def haunt(ctx: TaskContext, email: Email) -> str:\n    """Haunt a customer."""\n    return "boo"\n')
UNKNOWN_TEMPLATE = HEADER + (
    'def _mail(ctx, email):\n    ctx.send_email(email, "newsletter", "Hello")\n\n\n'
    '@task(title="Greet", offered_on="customers")\n'
    'def greet(ctx: TaskContext, email: Email) -> str:\n    """Greet a customer."""\n'
    '    ctx.send_email(to=email, template="password_reset", subject="Reset")\n    _mail(ctx, email)\n'
    '    return "sent"\n')
COMPUTED_TEMPLATE = HEADER + (
    '@task(title="Nudge")\n'
    'def nudge(ctx: TaskContext, email: Email) -> str:\n    """Nudge a customer."""\n'
    '    ctx.send_email(to=email, template="pass" + "word_reset", subject="Reset")\n    return "sent"\n')


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """plugins(file text, ...) -> the name of a fresh task package holding one module per text."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(*texts: str) -> str:
        package = f"sc_fit_{uuid.uuid4().hex[:8]}"
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text('"""Tasks for a fit test."""\n')
        for number, text in enumerate(texts):
            (tmp_path / package / f"plugin_{number}.py").write_text(text)
        return package

    return make


def check(package: str, *args: str):
    return CliRunner().invoke(main, ["tasks", "check", *args], env={"TASK_PACKAGES": package, "PRODUCT_PACKAGE": ""})


def test_a_task_offered_on_a_record_the_product_lacks_fails_the_check_naming_the_task_and_field(plugins):
    result = check(plugins(OFFERED_ON_GHOSTS))
    assert result.exit_code == 1
    assert "plugin_0.py: task 'haunt': field 'offered_on': 'ghosts' is not a record of PRODUCT_PACKAGE " \
           "admin_tasks.shop" in result.output


def test_start_up_stops_at_a_task_that_does_not_fit(plugins, database_urls):
    from tests.conftest import config_for

    with pytest.raises(TaskDefinitionError, match="'ghosts' is not a record"):
        create_app(config_for(database_urls, TASK_PACKAGES=[plugins(OFFERED_ON_GHOSTS)]))


def test_an_email_template_the_product_does_not_declare_is_named_with_its_line(plugins):
    result = check(plugins(UNKNOWN_TEMPLATE))
    assert result.exit_code == 1
    assert "plugin_0.py: function '_mail': email template 'newsletter' (line 5) is not in PRODUCT_PACKAGE admin_tasks.shop's " \
           "EMAIL_TEMPLATES" in result.output
    assert "password_reset" not in result.output.split("EMAIL_TEMPLATES")[0]  # the declared one passes


def test_a_template_that_is_not_a_string_cannot_be_checked_and_is_refused(plugins):
    result = check(plugins(COMPUTED_TEMPLATE))
    assert result.exit_code == 1
    assert "task 'nudge': send_email at line 7 must name its template as a string" in result.output


def test_the_shipped_tasks_fit_the_demo_shop_and_product_check_runs_the_task_check(plugins, app, database_urls):
    assert check("admin_tasks").exit_code == 0
    env = {"TASK_PACKAGES": plugins(OFFERED_ON_GHOSTS), "PRODUCT_PACKAGE": "",
           "TARGET_DATABASE_URL": database_urls["target"]}
    result = CliRunner().invoke(main, ["product", "check"], env=env)
    assert result.exit_code == 1 and not re.search(r"\d+ problems? in", result.output)  # the shop's records match its database
    assert "field 'offered_on': 'ghosts' is not a record" in result.output
