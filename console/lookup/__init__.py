"""Lookup: read-only, fast pages for every record the product package declares, over the target database."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, url_for
from flask_admin.menu import MenuLink
from flask_login import current_user

from console.admin.home import HomeSection, add_home_section
from console.permissions import LOOKUP, user_can
from console.lookup.masking import PersonalColumns
from console.lookup.display import noun
from console.lookup.views import RecordsView, menu_records

MENU_CATEGORY_FROM = 7  # more records than this go under one "Records" menu


class RecordMenuLink(MenuLink):
    """A record in the menu: shown to roles that look records up, marked on that record's pages."""

    def __init__(self, record):
        super().__init__(record.label)
        self.record = record.name

    def get_url(self) -> str:
        return url_for("records.listing", record=self.record)

    def is_accessible(self) -> bool:
        return user_can(current_user, LOOKUP)

    def is_active(self, view) -> bool:
        return view.endpoint == "records" and (request.view_args or {}).get("record") == self.record


def old_urls(names: list[str]) -> Blueprint:
    """/admin/<record>/ and /admin/<record>/<key>, the pages' addresses before records were generic: redirects.

    A redirect shows nothing, so it needs no login; the page it leads to checks access.
    """
    blueprint = Blueprint("record_urls", __name__, url_prefix="/admin")
    records = f"any({', '.join(names)}):record"

    @blueprint.get(f"/<{records}>/")
    def old_list(record: str):
        return redirect(url_for("records.listing", record=record, **request.args.to_dict()), 301)

    @blueprint.get(f"/<{records}>/<key>")
    def old_detail(record: str, key: str):
        return redirect(url_for("records.detail", record=record, key=key), 301)

    return blueprint


def init_app(app: Flask, admin) -> None:
    """Add the record pages, their menu entries and the home page's search box."""
    product = app.extensions["product"]
    app.config.setdefault("LOOKUP_REVEAL_MINUTES", 15)
    app.extensions["personal_data"] = PersonalColumns(product.records.values(), customer=product.customer)
    admin.add_view(RecordsView(name="Records", endpoint="records", url="/admin/records"))
    starting = menu_records(product)
    category = "Records" if len(starting) >= MENU_CATEGORY_FROM else None
    for record in starting:
        admin.add_menu_item(RecordMenuLink(record), category)
    if starting:
        app.register_blueprint(old_urls([record.name for record in starting]))
    nouns = [noun(record).lower() for record in starting] or ["record"]
    what = " or ".join(f"{'an' if word[:1] in 'aeiou' else 'a'} {word}" for word in nouns)
    add_home_section(app, HomeSection(permission=LOOKUP, template="lookup/home_search.html", order=5,
                                      context=lambda user: {"what": what}))
