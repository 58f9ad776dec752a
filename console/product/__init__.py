"""Product packages: what support looks up, declared in plain Python; the ONLY module they import.

    from console.product import BelongsTo, HasMany, Money, Record, mask

A product package (PRODUCT_PACKAGE) declares `RECORDS = [Record(...), ...]` beside its task
plugins; the console names no product table itself. See docs/PRODUCTS.md.
"""
from __future__ import annotations

from console.product import mask
from console.product.declare import BelongsTo, HasMany, ProductError, Record
from console.product.money import Money, format_money
from console.product.story import Problem, TicketStory

__all__ = ["BelongsTo", "HasMany", "Money", "Problem", "ProductError", "Record", "TicketStory", "format_money", "mask",
           "init_app"]


def init_app(app, admin) -> None:
    """Load PRODUCT_PACKAGE (a mistake stops start-up); its tables are reflected on first use."""
    from console.product.cli import group
    from console.product.loading import load_product
    from console.product.schema import ProductSchema

    product = load_product(app.config["PRODUCT_PACKAGE"])
    app.extensions["product"] = product
    app.extensions["product_schema"] = ProductSchema(product, app.extensions["console_db"].target_engine)
    app.cli.add_command(group)

