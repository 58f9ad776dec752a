"""The migrations build exactly the schema the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import console.models  # noqa: F401  (every console table registers on ConsoleBase.metadata)
from console.db import ConsoleBase
from console.migrations import console_schema_is_current


def test_the_migrated_schema_matches_the_models(isolated_app):
    engine = isolated_app().extensions["console_db"].console_engine  # upgraded to heads by the fixture
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), ConsoleBase.metadata)
    assert console_schema_is_current(engine)
    # Type and server-default nuances differ between dialects; tables, columns and indexes must not.
    structural = [d for d in differences if d[0] in ("add_table", "remove_table", "add_column", "remove_column",
                                                     "add_index", "remove_index")]
    assert structural == []
