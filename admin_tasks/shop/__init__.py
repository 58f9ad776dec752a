"""The demo shop as a product package: its tables (schema.py) and the records support looks up (records.py)."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from admin_tasks.shop.records import RECORDS
from admin_tasks.shop.schema import ShopBase

__all__ = ["RECORDS", "create_schema"]


def create_schema(engine: Engine) -> None:
    """Create the demo shop's missing tables and indexes: a demo owns its database, a real product does not."""
    ShopBase.metadata.create_all(engine, checkfirst=True)
    # create_all skips indexes of tables that already exist; lookups added later still need theirs.
    for table in ShopBase.metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
