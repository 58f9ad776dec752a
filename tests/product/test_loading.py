"""Loading a product package: its optional hooks are checked with its records, in one line naming the field."""
import uuid

import pytest
from sqlalchemy import MetaData

from console.config import ConfigError
from console.product.loading import NoDemoData, load_product

RECORDS = 'from console.product import Record\n\nRECORDS = [Record("accounts")]\n'


@pytest.fixture
def package(tmp_path, monkeypatch):
    """package(extra source) -> the name of a fresh product package declaring one record, plus the extra."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(extra: str = "") -> str:
        name = f"sc_product_{uuid.uuid4().hex[:8]}"
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(RECORDS + extra)
        return name

    return make


@pytest.mark.parametrize("extra, field", [
    ("METADATA = {}\n", "METADATA"),
    ('EMAIL_TEMPLATES = "welcome"\n', "EMAIL_TEMPLATES"),
    ('EMAIL_TEMPLATES = ["welcome", ""]\n', "EMAIL_TEMPLATES"),
    ("demo_records = []\n", "demo_records"),
    ("load_demo_data = 3\n", "load_demo_data"),
    ("DEMO_TICKETS = []\n", "DEMO_TICKETS"),
    ("from console.product import TicketStory\nDEMO_TICKETS = TicketStory(problems=[])\n", "DEMO_TICKETS"),
    ('from console.product import Problem\nP = Problem("billing", "", None, 1.1, "", "knowledge", 20, 1)\n',
     "DEMO_TICKETS"),  # neither a task nor a missing tool: the ranking would have nothing to name
    ('from console.product import Problem\nP = Problem("billing", "", "t", 0.5, "", "urgent", 20, 1)\n',
     "DEMO_TICKETS"),
])
def test_a_malformed_hook_stops_loading_naming_the_package_and_field(package, extra, field):
    name = package(extra)
    with pytest.raises(ConfigError, match=f"^PRODUCT_PACKAGE {name}: field '{field}': "):
        load_product(name)


def test_a_package_without_hooks_has_no_tables_templates_or_demo_data(package):
    product = load_product(package())
    assert product.metadata is None and product.email_templates == frozenset()
    assert product.demo_records(None) == [] and not product.owns_schema() and product.ticket_story is None
    with pytest.raises(NoDemoData, match="has no demo data"):
        product.load_demo_data(None, customers=1, seed=0, progress=False)


def test_the_demo_shop_declares_every_hook():
    product = load_product("admin_tasks.shop")
    assert isinstance(product.metadata, MetaData) and "customers" in product.metadata.tables
    assert "refund_issued" in product.email_templates
    assert "refund_order" in {problem.task for problem in product.ticket_story.problems}
    assert product.owns_schema()
