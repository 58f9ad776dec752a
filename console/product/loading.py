"""Loading the product package named by PRODUCT_PACKAGE: import it, read RECORDS, check them together.

A mistake stops start-up with one line naming the package, the record and the field.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from console.config import ConfigError
from console.product.declare import BelongsTo, ProductError, Record


@dataclass(frozen=True)
class Product:
    """A loaded product package: its records by name, and the package itself."""

    package: str
    records: dict[str, Record]
    module: ModuleType

    def owns_schema(self) -> bool:
        """Whether the package creates its own tables (only a demo does; a real product owns its database)."""
        return callable(getattr(self.module, "create_schema", None))

    def create_schema(self, engine) -> bool:
        """Create the package's missing tables when it says how; False when it leaves the database alone."""
        if not self.owns_schema():
            return False
        self.module.create_schema(engine)
        return True


def check_records(records) -> dict[str, Record]:
    """Check the records together (names unique, related records known); ProductError at the first mistake."""
    if isinstance(records, (str, bytes)) or not hasattr(records, "__iter__"):
        raise ProductError("", "RECORDS", "expected a list of Record(...)")
    by_name: dict[str, Record] = {}
    for record in records:
        if not isinstance(record, Record):
            raise ProductError("", "RECORDS", f"expected Record(...) items, not {type(record).__name__}")
        if record.name in by_name:
            raise ProductError(record.name, "name", "two records have this name")
        by_name[record.name] = record
    if not by_name:
        raise ProductError("", "RECORDS", "declares no record")
    for record in by_name.values():
        for relation in record.related:
            if relation.record not in by_name:
                raise ProductError(record.name, "related", f"{relation.record!r} is not a record of this package")
            if not isinstance(relation.via, str) or not relation.via:
                raise ProductError(record.name, "related", f"{relation.record!r}: via must name a column")
            if isinstance(relation, BelongsTo) and relation.via == record.key:
                raise ProductError(record.name, "related", f"{relation.record!r}: via names the record's own key")
    return by_name


def load_product(package: str) -> Product:
    """Import the package and check its RECORDS; ConfigError in one line naming what is wrong."""
    try:
        module = importlib.import_module(package)
    except ProductError as exc:
        raise ConfigError(f"PRODUCT_PACKAGE {package}: {exc}") from None
    except Exception as exc:  # a package that does not import must still be named, in one line
        raise ConfigError(f"PRODUCT_PACKAGE {package}: cannot import it ({exc.__class__.__name__}: {exc})") from None
    if not hasattr(module, "RECORDS"):
        raise ConfigError(f"PRODUCT_PACKAGE {package}: declares no RECORDS (a list of console.product.Record)")
    try:
        records = check_records(module.RECORDS)
    except ProductError as exc:
        raise ConfigError(f"PRODUCT_PACKAGE {package}: {exc}") from None
    return Product(package, records, module)
