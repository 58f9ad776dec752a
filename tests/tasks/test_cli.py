"""`support-console tasks`: list, check, new and run (own databases, real commits)."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from admin_tasks.shop.demo_named import restore_named_records
from admin_tasks.shop_schema import Order
from console.audit.models import AuditEntry
from console.db import utcnow
from console.tasks.cli import group
from console.tasks.models import TaskRun
from tests.committed import make_committed_user

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop_app(isolated_app):
    """An app on new databases holding the named demo records and an agent, committed."""
    app = isolated_app()
    with app.extensions["console_db"].target_engine.begin() as conn:
        restore_named_records(conn, utcnow())
    app.agent_email = make_committed_user(app, "agent")
    return app


def invoke(app, *args):
    return app.test_cli_runner().invoke(group, list(args), catch_exceptions=False)


def read(app, query):
    with app.app_context():
        from console.db import console_session, target_session

        session = target_session() if "orders" in str(query) else console_session()
        return session.execute(query).all()


# ---- list -------------------------------------------------------------------------------------

def test_list_shows_every_task_and_json_matches_the_api_shape(shop_app):
    text = invoke(shop_app, "list")
    assert text.exit_code == 0
    assert "refund_order" in text.output and "unlock_account" in text.output
    listed = json.loads(invoke(shop_app, "list", "--json").output)["tasks"]
    refund = next(task for task in listed if task["name"] == "refund_order")
    assert refund["params"]["properties"]["amount_cents"]["type"] == "integer"
    assert refund["enabled"] is True


def test_list_marks_disabled_tasks(isolated_app):
    app = isolated_app(DISABLED_TASKS=["cancel_order"])
    line = next(line for line in invoke(app, "list").output.splitlines() if line.startswith("cancel_order"))
    assert "[disabled]" in line


# ---- run --------------------------------------------------------------------------------------

def run_refund(app, *extra, amount="3000"):
    return invoke(app, "run", "refund_order", "--as", app.agent_email, "--ticket", "T-1", "--reason",
                  "returned an item", "--param", "order_id=1004", "--param", f"amount_cents={amount}", *extra)


def refunded(app) -> int:
    return read(app, select(Order.refunded_cents).where(Order.id == 1004))[0][0]


def test_dry_run_prints_the_preview_and_changes_nothing(shop_app):
    result = run_refund(shop_app, "--dry-run")
    assert result.exit_code == 0, result.output
    # --param takes cents, as the API does; the preview reads in euros.
    assert "Amount to refund: EUR 30.00" in result.output
    assert "refunded_cents: 'EUR 0.00' -> 'EUR 30.00'" in result.output and "Dry run" in result.output
    assert refunded(shop_app) == 0
    assert read(shop_app, select(TaskRun.id)) == []


def test_run_goes_through_the_runner_and_is_audited(shop_app):
    result = run_refund(shop_app)
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    assert refunded(shop_app) == 3000
    [(run_id, source, actor)] = read(shop_app, select(TaskRun.id, TaskRun.source, TaskRun.actor))
    assert (source, actor) == ("cli", shop_app.agent_email)
    actions = {row[0] for row in read(shop_app, select(AuditEntry.action).where(AuditEntry.subject_id == str(run_id)))}
    assert {"task.intent", "task.outcome"} <= actions


def test_a_high_risk_run_waits_for_approval(shop_app):
    result = run_refund(shop_app, amount="20000")
    assert result.exit_code == 0 and "waiting for approval" in result.output
    assert refunded(shop_app) == 0


def test_a_refusal_exits_1_with_the_reason_and_changes_nothing(shop_app):
    result = run_refund(shop_app, amount="30000")
    assert result.exit_code == 1
    assert "EUR 250.00" in result.output
    assert refunded(shop_app) == 0


def test_a_refusal_is_recorded_as_one_refused_run_with_its_audit_entry(shop_app):
    result = run_refund(shop_app, amount="30000")

    [(run_id, status, source)] = read(shop_app, select(TaskRun.id, TaskRun.status, TaskRun.source))
    assert (status, source) == ("refused", "cli")
    assert f"Run {run_id} refused." in result.output
    assert read(shop_app, select(AuditEntry.action, AuditEntry.outcome)
                .where(AuditEntry.subject_type == "task_run", AuditEntry.subject_id == str(run_id))) == [
        ("task.outcome", "refused")]


def test_invalid_input_exits_2_naming_the_fields(shop_app):
    result = run_refund(shop_app, amount="lots")
    assert result.exit_code == 2 and "amount_cents" in result.output
    empty_reason = invoke(shop_app, "run", "unlock_account", "--as", shop_app.agent_email, "--ticket", "T-1",
                          "--reason", " ", "--param", "email=locked@example.com")
    assert empty_reason.exit_code == 2 and "reason" in empty_reason.output


def test_bad_options_are_refused_before_anything_runs(shop_app):
    unknown_user = invoke(shop_app, "run", "unlock_account", "--as", "nobody@example.com", "--ticket", "T",
                          "--reason", "r", "--param", "email=locked@example.com")
    assert unknown_user.exit_code == 1 and "nobody@example.com" in unknown_user.output
    no_equals = invoke(shop_app, "run", "unlock_account", "--as", shop_app.agent_email, "--ticket", "T",
                       "--reason", "r", "--param", "email")
    assert no_equals.exit_code == 2 and "key=value" in no_equals.output
    unknown_task = invoke(shop_app, "run", "nope", "--as", shop_app.agent_email, "--ticket", "T", "--reason", "r")
    assert unknown_task.exit_code == 1 and "nope" in unknown_task.output
    assert read(shop_app, select(TaskRun.id)) == []


# ---- check ------------------------------------------------------------------------------------

@pytest.fixture
def plugin_project(tmp_path, monkeypatch):
    """A throwaway project folder with an empty task package (unique name) and a tests folder."""
    package = f"sc_tasks_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text('"""Tasks for a CLI test."""\n')
    (tmp_path / "tests").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path, package


def test_check_passes_on_the_shipped_plugins():
    result = CliRunner().invoke(group, ["check"], env={"TASK_PACKAGES": "admin_tasks"})
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_check_names_every_invalid_plugin_and_exits_1(plugin_project):
    root, package = plugin_project
    header = "from console.tasks import TaskContext, task\n\n\n"
    (root / package / "no_annotation.py").write_text(
        header + '@task(title="A")\ndef no_annotation(ctx: TaskContext, email) -> str:\n    """Doc."""\n')
    (root / package / "no_docstring.py").write_text(
        header + '@task(title="B")\ndef no_docstring(ctx: TaskContext) -> str:\n    return ""\n')
    result = CliRunner().invoke(group, ["check"], env={"TASK_PACKAGES": package})
    assert result.exit_code == 1
    assert "no_annotation.py" in result.output and "annotation" in result.output
    assert "no_docstring.py" in result.output and "docstring" in result.output


# ---- new --------------------------------------------------------------------------------------

def test_new_writes_a_plugin_and_its_test_and_the_task_appears_everywhere(plugin_project, isolated_app):
    root, package = plugin_project
    app = isolated_app(TASK_PACKAGES=[package])
    result = invoke(app, "new", "set_customer_status", "--category", "accounts")
    assert result.exit_code == 0, result.output
    plugin = root / package / "accounts" / "set_customer_status.py"
    test = root / "tests" / package / "accounts" / "test_set_customer_status.py"
    assert plugin.is_file() and test.is_file()
    assert (root / package / "accounts" / "__init__.py").is_file()
    # Named for its task, on the product's first record, and a copy of no other task.
    source, test_source = plugin.read_text(), test.read_text()
    assert 'title="Set customer status"' in source and "def set_customer_status(" in source
    assert 'offered_on="customers", record_param="customer_id"' in source
    assert "def test_set_customer_status_sets_the_status(" in test_source
    assert not any(other in source + test_source for other in ("failed_login", "reset", "unlock"))

    fresh = isolated_app(TASK_PACKAGES=[package])
    assert fresh.extensions["task_registry"].get("set_customer_status").category == "Accounts"
    assert "set_customer_status" in invoke(fresh, "list").output
    from console.auth.services import create_token, find_user

    email = make_committed_user(fresh, "agent")
    with fresh.app_context():
        from console.db import console_session

        session = console_session()
        token = create_token(session, find_user(session, email), "test")
        session.commit()
    listed = fresh.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [task["name"] for task in listed["tasks"]] == ["set_customer_status"]
    html = fresh.test_client().get("/admin/tasks/set_customer_status/")
    assert html.status_code == 302  # exists, behind the login


def test_new_refuses_an_existing_name_and_a_bad_identifier(plugin_project, isolated_app):
    root, package = plugin_project
    app = isolated_app(TASK_PACKAGES=[package])
    assert invoke(app, "new", "greet_customer").exit_code == 0
    before = sorted(path.name for path in root.rglob("*.py"))
    again = invoke(isolated_app(TASK_PACKAGES=[package]), "new", "greet_customer", "--category", "other")
    assert again.exit_code == 1 and "already exists" in again.output
    for bad in ("Bad-Name", "9lives", "class", "x" * 61):
        result = invoke(app, "new", bad)
        assert result.exit_code == 2, bad
    assert sorted(path.name for path in root.rglob("*.py")) == before


def test_the_generated_test_passes_against_the_generated_plugin(plugin_project, isolated_app):
    root, package = plugin_project
    assert invoke(isolated_app(TASK_PACKAGES=[package]), "new", "reopen_order", "--record", "orders").exit_code == 0
    generated = root / "tests" / package / "custom" / "test_reopen_order.py"
    # Run a copy outside that folder: tests/<package>/ would otherwise shadow the task package of the same name
    # (the real tests/ is a package, tests.admin_tasks, so the repository has no such clash).
    test = root / "generated_check" / generated.name
    test.parent.mkdir()
    test.write_text(generated.read_text())
    env = dict(os.environ, TASK_PACKAGES=f"admin_tasks,{package}",
               PYTHONPATH=os.pathsep.join([str(PROJECT), str(root)]))
    common = ["-q", "-p", "no:cacheprovider", "-c", str(PROJECT / "pyproject.toml"), "--rootdir", str(PROJECT)]
    own = subprocess.run([sys.executable, "-m", "pytest", str(test), "-p", "tests.conftest", *common],
                         cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert own.returncode == 0, own.stdout[-3000:] + own.stderr[-2000:]
    assert "5 passed" in own.stdout
    # The contract test picks the new task up like any other.
    contract = subprocess.run([sys.executable, "-m", "pytest", "tests/tasks/test_contract.py", "-k",
                               "reopen_order", *common],
                              cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert contract.returncode == 0, contract.stdout[-3000:] + contract.stderr[-2000:]
    assert "6 passed" in contract.stdout


def test_new_follows_the_product_package_and_names_a_bad_option(plugin_project, isolated_app):
    from console.tasks.testing import create_product_tables

    root, package = plugin_project
    app = isolated_app(PRODUCT_PACKAGE="tests.product.saas_tasks", TASK_PACKAGES=[package])
    create_product_tables(app)
    assert invoke(app, "new", "set_company", "--record", "ghosts").output.startswith("Error: --record: 'ghosts'")
    assert "--column: 'email'" in invoke(app, "new", "set_company", "--record", "accounts", "--column", "email").output
    assert invoke(app, "new", "set_company", "--record", "accounts").exit_code == 0
    source = (root / package / "custom" / "set_company.py").read_text()
    assert 'offered_on="accounts", record_param="account_id"' in source
    assert 'ctx.update("accounts", row, company=new_company)' in source
    checked = CliRunner().invoke(group, ["check", "--product", "tests.product.saas_tasks"],
                                 env={"TASK_PACKAGES": package})
    assert checked.exit_code == 0, checked.output
