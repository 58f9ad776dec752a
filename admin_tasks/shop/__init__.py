"""The demo shop as a product package: its tables (schema.py), the records support looks up (records.py),
the emails its tasks may send, its demo data (demo.py, demo_named.py) and demo ticket story (demo_story.py).

The console reads these hooks through PRODUCT_PACKAGE; only RECORDS is required of a product package.
"""
from __future__ import annotations

from sqlalchemy.engine import Engine

from admin_tasks.shop.demo import load_demo_data
from admin_tasks.shop.demo_named import demo_records
from admin_tasks.shop.demo_story import DEMO_TICKETS
from admin_tasks.shop.records import RECORDS
from admin_tasks.shop.schema import ShopBase

__all__ = ["DEMO_TICKETS", "EMAIL_TEMPLATES", "METADATA", "RECORDS", "create_schema", "demo_records",
           "load_demo_data"]

# The shop's tables, for the databases of task tests (console.tasks.testing creates them from this).
METADATA = ShopBase.metadata
# The emails the shop's mailer can send; a task sending any other template is refused when it is loaded.
EMAIL_TEMPLATES = ("email_changed", "email_confirmation", "order_cancelled", "password_reset", "refund_issued",
                   "shipping_address_changed", "shipping_notification")


def create_schema(engine: Engine) -> None:
    """Create the demo shop's missing tables and indexes: a demo owns its database, a real product does not."""
    ShopBase.metadata.create_all(engine, checkfirst=True)
    # create_all skips indexes of tables that already exist; lookups added later still need theirs.
    for table in ShopBase.metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
