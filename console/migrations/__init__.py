"""Schema management: Alembic for the console's tables; the product package's own, if it has any."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from console.config import DEFAULT_PRODUCT_PACKAGE
from console.engines import database_error_text
from console.product.loading import Product, load_product
from console.product.search_index import create_missing

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


def console_schema_problem(engine: Engine) -> str | None:
    """Why the console database cannot serve a command, in one line naming what to do; None when it can."""
    try:
        if console_schema_is_current(engine):
            return None
    except SQLAlchemyError as exc:
        return f"the console database did not answer ({database_error_text(exc)})"
    return "the console database is not set up for this version: run `support-console init` first"


def create_target_schema(engine: Engine, product: Product | None = None) -> bool:
    """Let the product package create its missing tables, if it owns a schema (only the demo shop does),
    and the indexes its substring search keys need.

    A real product owns its database: its package has no `create_schema`, and nothing is changed
    (`support-console product index` makes its search indexes when asked). Returns whether the
    package created anything. Without `product`, the demo shop's package.
    """
    product = product or load_product(DEFAULT_PRODUCT_PACKAGE)
    if not product.create_schema(engine):
        return False
    create_missing(engine, product)
    return True
