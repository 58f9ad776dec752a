"""Schema management: Alembic for the console's tables, create-if-missing for the demo shop."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "console"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_console(engine: Engine) -> None:
    """Bring the console schema to the newest revision of every branch (idempotent)."""
    command.upgrade(alembic_config(engine), "heads")


def console_schema_is_current(engine: Engine) -> bool:
    """Whether every head is applied: recorded itself, or below a recorded revision that depends on it."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    # Alembic records a head that a later revision `depends_on` only through that revision.
    applied = {revision.revision for revision in script.iterate_revisions(current, "base")}
    return set(script.get_heads()) <= applied


def create_target_schema(engine: Engine) -> None:
    """Create the demo shop's missing tables and indexes; a real product owns its own schema."""
    from admin_tasks.shop_schema import ShopBase

    ShopBase.metadata.create_all(engine, checkfirst=True)
    # create_all skips indexes of tables that already exist; lookups added later still need theirs.
    for table in ShopBase.metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
