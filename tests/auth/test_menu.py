"""The navigation menu: each role sees exactly the pages it may open, even though the markup is reused.

PageChrome (console/admin/base.py) asks the views' permission checks once per role and renders the
menu once per view and role, so these tests switch users and roles inside one app and check every menu.
"""
from __future__ import annotations

import re

import pytest

from console.permissions import ROLE_PERMISSIONS
from tests.conftest import AuthActions

ROLES = sorted(ROLE_PERMISSIONS)
MENU = re.compile(r'<ul class="nav navbar-nav mr-auto">(.*?)<ul class="nav navbar-nav navbar-right">', re.S)


def _menu(html: str) -> str:
    return MENU.search(html).group(1)


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="(/admin/[^"]*)"', _menu(html)))


def _admin_pages(app) -> set[str]:
    """The index URL of every page Flask-Admin knows, whether or not it is in this role's menu; for the record
    pages (one view, listed in the menu by record), the records the menu lists."""
    admin = app.extensions["admin"][0]
    with app.test_request_context():
        pages = {view.get_url(f"{view.endpoint}.{view._default_view}") for view in admin._views
                 if view.endpoint != "records"}
        return pages | {"/admin/records/customers/", "/admin/records/orders/"}


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_links_exactly_the_pages_the_role_may_open(app, client, login_as, role):
    login_as(role)
    links = _links(client.get("/admin/").get_data(as_text=True))
    for page in _admin_pages(app):
        status = client.get(page).status_code
        assert (page in links) == (status == 200), (role, page, status)


def test_menus_follow_each_user_whichever_role_came_first(app, dbs, make_user):
    agent, admin = make_user("agent"), make_user("admin")
    seen = []
    for user in (agent, admin, agent, admin):
        client = app.test_client()
        AuthActions(client).login(user.email)
        seen.append(_links(client.get("/admin/records/customers/").get_data(as_text=True)))
    assert seen[0] == seen[2] and seen[1] == seen[3]
    assert "/admin/staff_users/" in seen[1] and "/admin/staff_users/" not in seen[0]


def test_the_page_being_shown_is_the_active_menu_item(client, login_as):
    login_as("agent")
    for page in ("/admin/records/customers/", "/admin/records/orders/", "/admin/records/customers/", "/admin/"):
        menu = _menu(client.get(page).get_data(as_text=True))
        active = re.findall(r'<li class="active">\s*<a class="nav-link [^"]*" href="([^"]+)"', menu)
        assert active == [page], (page, active)


def test_a_role_change_changes_the_menu_at_the_next_login(app, client, login_as, auth, console_db):
    from console.auth.services import set_role

    user = login_as("agent")
    assert "/admin/audit/" not in _links(client.get("/admin/").get_data(as_text=True))
    with app.app_context():
        set_role(console_db, user, "lead", actor="admin@example.com")
    console_db.flush()
    assert client.get("/admin/").status_code == 302  # the role change ended the session
    auth.login(user.email)
    assert "/admin/audit/" in _links(client.get("/admin/").get_data(as_text=True))
