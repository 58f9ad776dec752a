"""Loading the product package named by PRODUCT_PACKAGE: import it, read RECORDS, check them together.

A mistake stops start-up with one line naming the package, the record and the field. Besides RECORDS a
package may define hooks, each optional: `create_schema(engine)` (a demo that owns its tables),
`METADATA` (its tables as a SQLAlchemy MetaData, for test databases), `EMAIL_TEMPLATES` (the emails its
tasks may send), `demo_records(now)` (named rows for tests) and `load_demo_data(engine, ...)` (demo-data).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from sqlalchemy import MetaData

from console.config import ConfigError
from console.product.declare import BelongsTo, ProductError, Record
from console.product.story import TicketStory


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

    @property
    def metadata(self) -> MetaData | None:
        """The package's tables as declared (METADATA), or None: a real product's tables live in its database."""
        return getattr(self.module, "METADATA", None)

    @property
    def email_templates(self) -> frozenset[str]:
        """The email templates the package's tasks may send (EMAIL_TEMPLATES); none unless it declares them."""
        return frozenset(getattr(self.module, "EMAIL_TEMPLATES", ()))

    @property
    def customer(self) -> Record | None:
        """The record whose rows are the product's customers (declared with customer="<email column>"), if any."""
        return next((record for record in self.records.values() if record.customer), None)

    def customer_links(self) -> dict[str, tuple]:
        """How a row of each table names its customer: the customers' own table as ("self", key column, email
        column), a table whose record BelongsTo the customers as ("via", column). Empty without a customer record."""
        customer = self.customer
        if customer is None:
            return {}
        links: dict[str, tuple] = {customer.table: ("self", customer.key, customer.customer)}
        for record in self.records.values():
            for relation in record.related:
                if isinstance(relation, BelongsTo) and relation.record == customer.name:
                    links.setdefault(record.table, ("via", relation.via))
        return links

    def demo_records(self, now) -> list[tuple[str, dict]]:
        """The named rows tests and demos rely on, as (table, column values) parents first; [] without the hook."""
        hook = getattr(self.module, "demo_records", None)
        return list(hook(now)) if hook is not None else []

    @property
    def ticket_story(self) -> TicketStory | None:
        """The package's demo ticket story (DEMO_TICKETS), or None: `demo-data` then loads no ticket history."""
        return getattr(self.module, "DEMO_TICKETS", None)

    def load_demo_data(self, engine, **options) -> list[str]:
        """Fill the product database with the package's demo data and return the lines to print."""
        hook = getattr(self.module, "load_demo_data", None)
        if hook is None:
            raise NoDemoData(f"PRODUCT_PACKAGE {self.package} has no demo data (it defines no load_demo_data); "
                             "nothing was loaded")
        return list(hook(engine, **options))


class NoDemoData(ValueError):
    """The product package defines no demo data."""


def check_hooks(module: ModuleType) -> None:
    """The optional hooks have the right shape; ProductError naming the first one that does not."""
    for name in ("create_schema", "demo_records", "load_demo_data"):
        if hasattr(module, name) and not callable(getattr(module, name)):
            raise ProductError("", name, "expected a function")
    if hasattr(module, "METADATA") and not isinstance(module.METADATA, MetaData):
        raise ProductError("", "METADATA", "expected a sqlalchemy MetaData holding the product's tables")
    if not isinstance(getattr(module, "DEMO_TICKETS", None), (TicketStory, type(None))):
        raise ProductError("", "DEMO_TICKETS", "expected TicketStory(problems=[Problem(...), ...])")
    templates = getattr(module, "EMAIL_TEMPLATES", ())
    if isinstance(templates, (str, bytes)) or not all(isinstance(t, str) and t.strip() for t in templates):
        raise ProductError("", "EMAIL_TEMPLATES", "expected a list of template names")


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
    customers = [record.name for record in by_name.values() if record.customer]
    if len(customers) > 1:
        raise ProductError(customers[1], "customer", f"only one record holds the customers, and {customers[0]!r} "
                                                     "says it does")
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
        check_hooks(module)
    except ProductError as exc:
        raise ConfigError(f"PRODUCT_PACKAGE {package}: {exc}") from None
    return Product(package, records, module)
