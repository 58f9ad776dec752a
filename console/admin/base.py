"""The base of every Flask-Admin view: a permission check and safe defaults.

Flask-Admin protects nothing by itself: every view must come from one of these classes,
and tests walk app.url_map to prove it.
"""
from __future__ import annotations

import warnings
from datetime import datetime

from flask import redirect, request, session, url_for
from flask.globals import _cv_request
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.typefmt import BASE_FORMATTERS, DETAIL_FORMATTERS
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from console.admin.home import home_sections
from console.extensions import request_user
from console.formatting import html_text, local_time
from console.permissions import role_title, user_can

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHROME_CACHE_LIMIT = 2048  # entries in each cache of PageChrome
NONCE_MARK = "\x00nonce\x00"  # stands for the CSP nonce in stored frame markup


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
    """Require a logged-in, active user whose role grants `permission`.

    Access must depend on the role alone (the menu is worked out once per role: PageChrome).
    """

    permission: str = ""  # every view must name one; an empty permission admits nobody

    def is_accessible(self) -> bool:
        return bool(self.permission) and user_can(request_user(), self.permission)

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
    """What every page's frame repeats, computed once per app: asset and navigation links, and frame markup.

    The master template was most of the cost of a lookup page: a dozen url_for calls for assets and
    links that never change, Flask-Admin's menu macro, and the asset blocks. One per app (its Jinja globals).
    """

    def __init__(self):
        self._urls: dict[tuple, str] = {}
        self._frames: dict[tuple, Markup] = {}
        self._menus: dict[tuple, tuple] = {}

    def url(self, endpoint: str, **values) -> str:
        """url_for, for links that are the same on every request (assets, navigation).

        Only absolute endpoints: a relative '.index' depends on the request's blueprint. The key holds
        the script root, as url_for does; no url_defaults or host matching apply to these endpoints.
        """
        key = (_cv_request.get().request.script_root, endpoint, *values.items())  # not the request proxy
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = url_for(endpoint, **values)
            _bound(self._urls)
        return url

    @pass_context
    def frame(self, context, part: str, caller, menu: bool = False) -> Markup:
        """`{% call cached_frame(part) %}`: the body's markup, rendered once per view (and menu, if `menu`).

        The body must depend on nothing else of the request but the CSP nonce, which is put back into
        the stored markup on every request. A menu part is keyed by what the user's role sees of the menu.
        """
        view = context["admin_view"]
        admin = view.admin
        # A view serving several menu entries (the record pages) says which one this request marks.
        variant = view.frame_variant() if menu and hasattr(view, "frame_variant") else None
        key = (part, id(admin), view.endpoint, variant, _cv_request.get().request.script_root,
               self._role_menu(admin) if menu else None)
        stored = self._frames.get(key)
        if stored is None:
            html = caller()
            nonce = admin.csp_nonce_generator() if admin.csp_nonce_generator else ""
            # Kept as a plain string with the nonce marked, or as the Markup itself when it has no nonce.
            self._frames[key] = str.replace(html, nonce, NONCE_MARK) if nonce and nonce in html else html
            _bound(self._frames)
            return html
        if type(stored) is Markup:
            return stored
        return Markup(stored.replace(NONCE_MARK, admin.csp_nonce_generator()))

    @pass_context
    def user_bar(self, context) -> Markup:
        """The top bar's signed-in user, current ticket and logout form, written in Python: as template
        markup each of its dozen values was a chunk passed up through three generators, and each
        `current_user.` a proxy lookup."""
        user = request_user()
        if not user.is_authenticated:
            return Markup("")
        email, role = html_text(str(user.email)), html_text(role_title(user.role))
        html = (f'<span class="navbar-text mr-2 text-light"><span class="navbar-user" title="{email}">{email}</span>'
                f' · <span class="badge badge-light">{role}</span></span>\n')
        ticket = session.get("ticket_ref")
        if ticket:
            page = context.get("ticket_page_url")
            ref = html_text(str(ticket))
            link = html_text(str(page(ticket))) if page is not None else "#"
            html += (f'<span class="navbar-text mr-2"><a class="badge badge-info ticket-badge" href="{link}" '
                     f'title="Current ticket: {ref}">Ticket {ref}</a></span>\n')
        logout = html_text(self.url("auth.logout"))
        token = html_text(str(context["csrf_token"]()))
        return Markup(f'{html}<form method="post" action="{logout}" class="form-inline">\n'
                      f'<input type="hidden" name="csrf_token" value="{token}">\n'
                      '<button type="submit" class="btn btn-outline-light btn-sm">Log out</button>\n</form>')

    def _role_menu(self, admin) -> tuple:
        # Every console view's access is a function of the role alone (ConsoleViewMixin, user_can), so
        # the menu's answers are asked once per role. The menu only hides links: each view still checks
        # access on its own request.
        user = request_user()
        signed_in = bool(user.is_authenticated and user.is_active)
        key = (id(admin), request.script_root, getattr(user, "role", None) if signed_in else None, signed_in)
        state = self._menus.get(key)
        if state is None:
            state = self._menus[key] = (_menu_state(admin.menu()), _menu_state(admin.menu_links()))
            _bound(self._menus)
        return state


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
