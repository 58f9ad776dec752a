"""The `support-console` command as separate processes, on whichever target database the run uses.

With TEST_TARGET_DATABASE_URL on MariaDB this is the whole path a team on MySQL takes: init, the
demo data, and a task run that changes a row, each a process of its own.
"""
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from admin_tasks.shop_schema import Customer
from console.engines import make_engine

PROJECT = Path(__file__).resolve().parents[1]


def test_init_demo_data_and_a_task_run_as_processes(test_databases, tmp_path):
    urls = test_databases.create()
    env = {**os.environ, "CONSOLE_DATABASE_URL": urls["console"], "TARGET_DATABASE_URL": urls["target"],
           "CONSOLE_INSTANCE_DIR": str(tmp_path / "instance"), "CONSOLE_DEMO_PASSWORD": "demo-password-123",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    env.pop("SECRET_KEY", None)

    def command(*args: str) -> str:
        # What the `support-console` script runs, under this interpreter and this checkout.
        done = subprocess.run([sys.executable, "-c", "from console.cli import main; main()", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done.stdout

    command("init")
    command("demo-data", "--customers", "200", "--history-days", "7")
    output = command("tasks", "run", "unlock_account", "--as", "agent@example.com", "--ticket", "T-CLI-1",
                     "--reason", "customer called", "--param", "email=locked@example.com")

    assert "succeeded" in output.lower(), output
    engine = make_engine(urls["target"])
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Customer.status, Customer.failed_login_count)
                               .where(Customer.email == "locked@example.com")).one()
            generated = conn.scalar(select(Customer.id).where(Customer.id == 1000 + 199))
    finally:
        engine.dispose()
    assert tuple(row) == ("active", 0)
    assert generated == 1199
