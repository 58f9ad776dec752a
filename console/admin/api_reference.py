"""The API reference page: GET /api/v1/openapi.json made readable for staff, server-rendered and escaped."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, render_template, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError

from console.admin.base import ConsoleView
from console.permissions import LOOKUP, MANAGE_USERS, user_can


@dataclass(frozen=True)
class ApiDocument:
    """What the page shows, handed over by the app that has both faces (console.create_app), so that the pages
    never import the API: the document, its readable form, and the anchor of a schema's name."""

    document: Callable[[], dict]
    readable: Callable[[dict], Any]
    schema_anchor: Callable[[str], str]


def api_reference(api: ApiDocument) -> tuple[Any, Markup]:
    """The readable form of the app's document and its rendered routes and schemas, built once per document.

    The routes and schemas are the same for every reader (about 240 kB of markup, 50 ms to render), so the
    markup is kept beside the document; it comes from an autoescaping template like any page.
    """
    document = api.document()
    cached = current_app.extensions.get("api_reference")
    if cached is None or cached[0] is not document:
        reference = api.readable(document)
        body = Markup(render_template("admin/api_reference_body.html", reference=reference,
                                      schema_anchor=api.schema_anchor))
        cached = current_app.extensions["api_reference"] = (document, reference, body)
    return cached[1], cached[2]


class ApiReferenceView(ConsoleView):
    """Every /api/v1 route by tag: method, path, parameters, body, answers and the sign-in they need."""

    permission = LOOKUP  # any staff member: integrators and developers read it, nothing in it is secret

    def __init__(self, api: ApiDocument, **kwargs):
        super().__init__(**kwargs)
        self.api = api

    @expose("/")
    def index(self):
        reference, body = api_reference(self.api)
        return self.render("admin/api_reference.html", reference=reference, body=body,
                           raw_url=url_for("api.openapi_json"), tokens_url=_tokens_url())


def _tokens_url() -> str | None:
    """The API tokens page, for those who may issue tokens."""
    if not user_can(current_user, MANAGE_USERS):
        return None
    try:
        return url_for("api_tokens.index_view")
    except BuildError:
        return None


def add_api_reference(admin, api: ApiDocument) -> None:
    """Put the page last in the menu, after every domain's pages."""
    admin.add_view(ApiReferenceView(api, name="API", endpoint="api_reference", url="/admin/api"))
