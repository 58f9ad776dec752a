"""Flask-Admin wiring: the Admin object, its theme and the console's base template."""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from console.admin.base import AdminStatic, ConsoleIndexView, PageChrome
from console.permissions import role_title
from console.web import csp_nonce


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Support Console",
        url="/admin",
        index_view=ConsoleIndexView(name="Home", url="/admin"),
        theme=Bootstrap4Theme(swatch=app.config.get("FLASK_ADMIN_SWATCH", "cerulean"),
                              base_template="admin/console_master.html"),
        csp_nonce_generator=csp_nonce,
    )
    chrome = PageChrome()
    app.jinja_env.globals.update(cached_url=chrome.url, cached_frame=chrome.frame, user_bar=chrome.user_bar,
                            admin_static=AdminStatic(chrome))
    app.jinja_env.filters["role_title"] = role_title
    return admin
