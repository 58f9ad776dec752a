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
    assert "new.person@example.com (lead)" in made.output
    bad = invoke("users", "create", "x@example.com", "--role", "superuser", "--password-stdin", input="whatever12345\n")
    assert bad.exit_code != 0 and "role must be one of" in bad.output
    again = invoke("users", "create", "new.person@example.com", "--role", "agent")
    assert again.exit_code != 0 and "already exists" in again.output


def test_tokens_create_prints_the_token_last_and_stores_only_a_hash(cli_env):
    invoke("init")
    invoke("users", "create", "api@example.com", "--role", "agent", "--password-stdin", input="a long enough password\n")
    result = invoke("tokens", "create", "api@example.com", "--name", "helpdesk")
    assert result.exit_code == 0, result.output
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
