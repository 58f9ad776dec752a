"""The `support-console` command: init, demo-data, users and tokens (real commits, own databases)."""
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from admin_tasks.shop_schema import Customer, Order
from console.auth.models import StaffUser
from console.cli import main


@pytest.fixture
def cli_env(test_databases, tmp_path, monkeypatch):
    urls = test_databases.create()
    monkeypatch.setenv("CONSOLE_DATABASE_URL", urls["console"])
    monkeypatch.setenv("TARGET_DATABASE_URL", urls["target"])
    monkeypatch.setenv("CONSOLE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("CONSOLE_DEMO_PASSWORD", "demo-password-123")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    yield urls


def invoke(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def count(url, model):
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return n


def test_init_is_idempotent(cli_env):
    assert invoke("init").exit_code == 0
    second = invoke("init")
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    assert count(cli_env["console"], StaffUser) == 0  # no default accounts outside demo mode
    engine = create_engine(cli_env["console"])
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) >= 1
    engine.dispose()


def test_demo_data_twice_creates_no_duplicates(cli_env):
    assert invoke("init").exit_code == 0
    first = invoke("demo-data", "--customers", "30", "--history-days", "14")
    assert first.exit_code == 0, first.output
    counts = (count(cli_env["target"], Customer), count(cli_env["target"], Order), count(cli_env["console"], StaffUser))
    second = invoke("demo-data", "--customers", "30", "--history-days", "14")
    assert second.exit_code == 0, second.output
    assert (count(cli_env["target"], Customer), count(cli_env["target"], Order),
            count(cli_env["console"], StaffUser)) == counts
    assert counts[0] == 33  # 30 generated plus locked@, unconfirmed@ and alice@


def test_users_create_reads_the_password_from_stdin_and_rejects_bad_roles(cli_env):
    invoke("init")
    made = invoke("users", "create", "New.Person@Example.com", "--role", "lead", "--password-stdin",
                  input="a long enough password\n")
    assert made.exit_code == 0, made.output
    assert "Created new.person@example.com (Lead)." in made.output
    bad = invoke("users", "create", "x@example.com", "--role", "superuser", "--password-stdin", input="whatever12345\n")
    assert bad.exit_code != 0 and "role must be one of" in bad.output
    again = invoke("users", "create", "new.person@example.com", "--role", "agent")
    assert again.exit_code != 0 and "already exists" in again.output


def test_tokens_create_prints_the_token_last_and_stores_only_a_hash(cli_env):
    invoke("init")
    invoke("users", "create", "api@example.com", "--role", "agent", "--password-stdin", input="a long enough password\n")
    result = invoke("tokens", "create", "api@example.com", "--name", "helpdesk")
    assert result.exit_code == 0, result.output
    assert "API token for api@example.com (Agent); it is shown only now:" in result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("sc_") and len(token) > 30
    engine = create_engine(cli_env["console"])
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash, prefix FROM api_tokens")).one()
    engine.dispose()
    assert token not in stored.token_hash and stored.prefix == token[:10]
    unknown = invoke("tokens", "create", "nobody@example.com")
    assert unknown.exit_code != 0 and "no staff user" in unknown.output


def test_serve_refuses_to_start_without_a_secret_key(cli_env):
    result = invoke("serve")
    assert result.exit_code != 0
    assert "SECRET_KEY is not set" in result.output and "export SECRET_KEY" in result.output


def test_init_with_an_unreachable_database_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSOLE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("TARGET_DATABASE_URL", f"sqlite:///{tmp_path}/shop.db")
    monkeypatch.setenv("CONSOLE_INSTANCE_DIR", str(tmp_path / "instance"))
    result = invoke("init")
    assert result.exit_code != 0
    assert "could not initialise the databases" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [("users", "create", "new@example.com", "--role", "agent", "--password-stdin"),
                                  ("tokens", "create", "agent@example.com"), ("audit", "verify"),
                                  ("audit", "checkpoint"), ("deflection", "rebuild")])
def test_a_command_before_init_says_to_run_init_in_one_line(cli_env, args):
    result = invoke(*args, input="long-password-1\n")
    assert result.exit_code == 1
    assert result.output == "Error: the console database is not set up for this version: run `support-console init` " \
                            "first\n"


def test_serve_runs_the_checkpoint_keeper_in_each_worker_and_never_in_the_master(cli_env, monkeypatch):
    import threading

    import console.serving

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CONSOLE_AUDIT_KEY", "k" * 40)
    assert invoke("init").exit_code == 0
    seen = {}

    def keepers():
        return [t for t in threading.enumerate() if t.name == "audit-checkpoint-keeper"]

    def fake_gunicorn(app, host, port, in_worker=None):
        seen["in_master"] = keepers()
        hooks = console.serving.fork_hooks(app, in_worker)
        hooks["post_worker_init"](None)  # what gunicorn calls in a worker once it is ready
        seen["checkpoints"] = 0
        for _ in range(200):  # the keeper signs the empty trail at once: it has no checkpoint yet
            seen["checkpoints"] = count(cli_env["console"], text("audit_checkpoints"))
            if seen["checkpoints"]:
                break
            threading.Event().wait(0.05)
        seen["in_worker"] = keepers()
        hooks["worker_exit"](None, None)

    monkeypatch.setattr(console.serving, "run_gunicorn", fake_gunicorn)
    result = invoke("serve", "--port", "5999")
    assert result.exit_code == 0, result.output
    assert seen["in_master"] == [] and len(seen["in_worker"]) == 1
    assert seen["checkpoints"] == 1
    assert not seen["in_worker"][0].is_alive()


def test_serve_runs_the_webhook_sender_while_it_serves_and_stops_it_after(cli_env, monkeypatch):
    import threading

    import console.serving

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CONSOLE_AUDIT_KEY", "k" * 40)
    monkeypatch.setenv("CONSOLE_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("CONSOLE_WEBHOOK_SECRET", "w" * 32)
    assert invoke("init").exit_code == 0
    seen = {}

    def senders():
        return [t for t in threading.enumerate() if t.name == "webhook-sender"]

    def fake_gunicorn(app, host, port, in_worker=()):
        seen["in_master"] = senders()
        hooks = console.serving.fork_hooks(app, in_worker)
        hooks["post_worker_init"](None)  # what gunicorn calls in a worker once it is ready
        seen["in_worker"] = senders()
        hooks["worker_exit"](None, None)

    monkeypatch.setattr(console.serving, "run_gunicorn", fake_gunicorn)
    result = invoke("serve", "--port", "5999")
    assert result.exit_code == 0, result.output
    assert seen["in_master"] == [] and len(seen["in_worker"]) == 1
    assert not seen["in_worker"][0].is_alive()


def test_serve_with_a_webhook_url_but_no_secret_is_one_line(cli_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CONSOLE_AUDIT_KEY", "k" * 40)
    monkeypatch.setenv("CONSOLE_WEBHOOK_URL", "https://hooks.example.com/services/x")
    monkeypatch.delenv("CONSOLE_WEBHOOK_SECRET", raising=False)
    result = invoke("serve")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "CONSOLE_WEBHOOK_SECRET must be set" in result.output


@pytest.fixture
def web(cli_env):
    """A client of an app on the command's databases, and a login through the real form."""
    from console import create_app
    from tests.conftest import AuthActions, config_for

    app = create_app(config_for(cli_env))
    yield app.test_client, lambda client, email, password: AuthActions(client).login(email, password)
    app.extensions["console_db"].dispose()


def _audit_actions(url, prefix: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, actor FROM audit_entries WHERE action LIKE :p ORDER BY seq"),
                            {"p": prefix + "%"}).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_users_disable_ends_sessions_and_tokens_which_stay_dead_after_enable(cli_env, web):
    invoke("init")
    invoke("users", "create", "leaver@example.com", "--role", "lead", "--password-stdin",
           input="a long enough password\n")
    token = invoke("tokens", "create", "leaver@example.com").output.strip().splitlines()[-1]
    make_client, login = web
    browser = make_client()
    assert login(browser, "leaver@example.com", "a long enough password").status_code == 302
    bearer = {"Authorization": f"Bearer {token}"}
    assert browser.get("/admin/").status_code == 200
    assert make_client().get("/api/v1/runbooks", headers=bearer).status_code == 200

    disabled = invoke("users", "disable", "Leaver@Example.com")
    assert disabled.exit_code == 0 and "Disabled leaver@example.com" in disabled.output
    assert browser.get("/admin/").status_code == 302
    assert make_client().get("/api/v1/runbooks", headers=bearer).status_code == 401
    enabled = invoke("users", "enable", "leaver@example.com")
    assert enabled.exit_code == 0 and "stay revoked" in enabled.output

    assert browser.get("/admin/").status_code == 302  # the old cookie stays dead
    assert make_client().get("/api/v1/runbooks", headers=bearer).status_code == 401  # and so does the old token
    fresh = invoke("tokens", "create", "leaver@example.com").output.strip().splitlines()[-1]
    assert make_client().get("/api/v1/runbooks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert _audit_actions(cli_env["console"], "user.") == [("user.create", "cli"), ("user.disable", "cli"),
                                                          ("user.enable", "cli")]


def test_users_disable_or_enable_of_an_unknown_email_is_one_line_and_non_zero(cli_env):
    invoke("init")
    for command in ("disable", "enable"):
        result = invoke("users", command, "ghost@example.com")
        assert result.exit_code != 0
        assert result.output.strip().splitlines() == ["Error: email: no staff user ghost@example.com"]


def test_demo_data_with_a_new_demo_password_audits_the_reset_and_ends_sessions(cli_env, web, monkeypatch):
    invoke("init")
    assert invoke("demo-data", "--customers", "0", "--history-days", "0").exit_code == 0
    make_client, login = web
    browser = make_client()
    assert login(browser, "lead@example.com", "demo-password-123").status_code == 302

    monkeypatch.setenv("CONSOLE_DEMO_PASSWORD", "another-demo-password")
    second = invoke("demo-data", "--customers", "0", "--history-days", "0")

    assert second.exit_code == 0, second.output
    assert "password of 8 existing demo users (audited; their sessions ended)" in second.output
    assert browser.get("/admin/").status_code == 302
    assert login(make_client(), "lead@example.com", "another-demo-password").status_code == 302
    assert _audit_actions(cli_env["console"], "user.password_change") == [("user.password_change", "demo-data")] * 8
    third = invoke("demo-data", "--customers", "0", "--history-days", "0")
    assert "existing demo users" not in third.output
    assert len(_audit_actions(cli_env["console"], "user.password_change")) == 8
