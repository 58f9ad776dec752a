"""`demo-data` loads the product's demo data through its package's hook, and only the demo shop has one."""
import uuid

from sqlalchemy import create_engine, inspect

from console.auth.models import StaffUser
from tests.test_cli import cli_env, count, invoke  # noqa: F401 (cli_env: the same databases and environment)


def test_the_demo_shop_reports_what_its_hook_added_then_that_it_is_up_to_date(cli_env):
    assert invoke("init").exit_code == 0
    first = invoke("demo-data", "--customers", "0", "--history-days", "0")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == "Shop: added 3 customers, 4 orders, 7 order_items, 4 payments, 4 shipments"
    again = invoke("demo-data", "--customers", "0", "--history-days", "0")
    assert again.output.splitlines()[:2] == ["Shop: up to date", "Staff: demo users already exist"]


def test_another_product_without_demo_data_is_told_so_and_nothing_is_loaded(cli_env, tmp_path, monkeypatch):
    package = f"acme_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(
        'from console.product import Record\n\nRECORDS = [Record("accounts", title="id")]\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PRODUCT_PACKAGE", package)
    init = invoke("init")
    assert init.exit_code == 0 and "left as it is" in init.output
    result = invoke("demo-data", "--customers", "5")
    assert result.exit_code == 1
    assert f"PRODUCT_PACKAGE {package} has no demo data" in result.output
    assert count(cli_env["console"], StaffUser) == 0  # refused before anything was written, staff included
    engine = create_engine(cli_env["target"])
    assert inspect(engine).get_table_names() == []
    engine.dispose()
