"""Lookup: read-only, fast customer and order pages over the target database."""
from __future__ import annotations

from flask import Flask

from console.permissions import LOOKUP


def init_app(app: Flask, admin) -> None:
    """Add the customer and order pages and the home page's search box."""
    from console.admin.home import HomeSection, add_home_section
    from console.lookup.views import CustomerLookupView, OrderLookupView

    app.config.setdefault("LOOKUP_REVEAL_MINUTES", 15)
    admin.add_view(CustomerLookupView(name="Customers", endpoint="customers", url="/admin/customers"))
    admin.add_view(OrderLookupView(name="Orders", endpoint="orders", url="/admin/orders"))
    add_home_section(app, HomeSection(permission=LOOKUP, template="lookup/home_search.html", order=5))
