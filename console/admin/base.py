"""The base of every Flask-Admin view: a permission check and safe defaults.

Flask-Admin protects nothing by itself: every view must come from one of these classes,
and tests walk app.url_map to prove it.
"""
from __future__ import annotations

import warnings
from datetime import datetime

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.typefmt import BASE_FORMATTERS, DETAIL_FORMATTERS
from flask_login import current_user
from jinja2 import pass_context

from console.auth.permissions import user_can
from console.formatting import local_time

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHROME_CACHE_LIMIT = 512  # entries in each cache of PageChrome


def neutralize_formula(value):
    """Make a spreadsheet cell inert: values starting with a formula character get a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def deny(view, status: int = 403):
    """Send anonymous users to login, and show others a clean 'not allowed' page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    return view.render("admin/forbidden.html"), status


class ConsoleViewMixin:
    """Require a logged-in, active user whose role grants `permission`."""

    permission: str = ""  # every view must name one; an empty permission admits nobody

    def is_accessible(self) -> bool:
        return bool(self.permission) and user_can(current_user, self.permission)

    def inaccessible_callback(self, name, **kwargs):
        return deny(self)

    def is_visible(self) -> bool:
        return self.is_accessible()


class ConsoleView(ConsoleViewMixin, BaseView):
    """A custom console page."""


class ConsoleModelView(ConsoleViewMixin, ModelView):
    """A read-only model view with the unsafe and slow defaults turned off."""

    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    can_view_details = True
    action_disallowed_list = ["delete"]
    simple_list_pager = True  # no COUNT(*) per page
    page_size = 25
    can_set_page_size = False
    list_template = "admin/model/console_list.html"  # every checkbox named, no inline handlers (CSP)
    # Times as every console page shows them: in the viewer's zone, named (console/formatting.py).
    column_type_formatters = {**BASE_FORMATTERS, datetime: lambda view, value, name: local_time(value)}
    column_type_formatters_detail = {**DETAIL_FORMATTERS,
                                     datetime: lambda view, value, name: local_time(value, seconds=True)}

    def __init__(self, model, session, *args, **kwargs):
        # Flask-Admin 2 deprecates bare sessions in favour of Flask-SQLAlchemy's `db`, which
        # this project does not use; a scoped session is the supported plain-SQLAlchemy path.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Passing a session object directly is deprecated",
                                    category=DeprecationWarning)
            super().__init__(model, session, *args, **kwargs)

    def get_export_value(self, model, name):
        return neutralize_formula(super().get_export_value(model, name))


class ConsoleIndexView(AdminIndexView):
    """The home page: what the logged-in role does first."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.is_active

    def inaccessible_callback(self, name, **kwargs):
        return deny(self)

    @expose("/")
    def index(self):
        from console.admin.home import home_sections

        return self.render("admin/home.html", sections=home_sections(current_user))


def _menu_state(items, *, shown: bool = False) -> tuple:
    """Everything in the menu that can differ between requests: which items this user sees, and their links.

    It asks each item what Flask-Admin's menu macro asks: a category for its children (which it
    returns already filtered, hence `shown`), any other item whether it is accessible and visible.
    """
    state = []
    for item in items:
        if item.is_category():
            state.append(_menu_state(item.get_children(), shown=True))
        elif shown or (item.is_accessible() and item.is_visible()):
            state.append(item.get_url())
        else:
            state.append(None)
    return tuple(state)


class PageChrome:
    """What every page's frame repeats, computed once per app: asset and navigation links, and the menu.

    The master template was half the cost of a lookup page: a dozen url_for calls for assets and
    links that never change, and Flask-Admin's menu macro. One per app (its Jinja globals).
    """

    def __init__(self):
        self._urls: dict[tuple, str] = {}
        self._menus: dict[tuple, str] = {}

    def url(self, endpoint: str, **values) -> str:
        """url_for, for links that are the same on every request (assets, navigation).

        Only absolute endpoints: a relative '.index' depends on the request's blueprint. The key holds
        the script root, as url_for does; no url_defaults or host matching apply to these endpoints.
        """
        key = (request.script_root, endpoint, *values.items())
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = url_for(endpoint, **values)
            _bound(self._urls)
        return url

    def menu(self, admin_view, render):
        """The navigation menu, rendered by `render` (Flask-Admin's menu macro) once per distinct state.

        Each item's is_accessible/is_visible still runs on every request, so the menu follows
        every permission check exactly; only the markup built from those answers is reused.
        """
        admin = admin_view.admin
        key = (id(admin), admin_view.endpoint, request.script_root, _menu_state(admin.menu()))
        html = self._menus.get(key)
        if html is None:
            html = self._menus[key] = render()
            _bound(self._menus)
        return html


class AdminStatic:
    """`admin_static.url(filename=..., v=...)` in every template, as Flask-Admin's admin/static.html gives it.

    Upstream's base.html imports that macro with context on every page, and child templates (the
    model details page, for one) use the name it defines; this global gives them the same URLs,
    from PageChrome's cache.
    """

    def __init__(self, chrome: PageChrome):
        self._chrome = chrome

    @pass_context
    def url(self, context, **values) -> str:
        return self._chrome.url(f"{context['admin_view'].admin.endpoint}.static", **values)


def _bound(cache: dict) -> None:
    # Keys come from templates, roles and views, so this limit is never reached in practice; clearing
    # everything is the whole policy if it is.
    if len(cache) > CHROME_CACHE_LIMIT:
        cache.clear()
