"""Runbooks: Markdown guides in `runbooks/*.md`, loaded, rendered, searched and checked."""
from __future__ import annotations


def init_app(app, admin) -> None:
    """Give the app its runbook library, the runbook pages and the home-page search."""
    from console.admin.home import HomeSection, add_home_section
    from console.deflection.insights import add_search_gaps
    from console.permissions import LOOKUP
    from console.runbooks.gaps import search_gaps
    from console.runbooks.library import RunbookLibrary
    from console.runbooks.views import RunbookView

    app.extensions["runbooks"] = RunbookLibrary(app.config["RUNBOOKS_DIR"])
    add_search_gaps(app, search_gaps)
    admin.add_view(RunbookView(name="Runbooks", endpoint="runbooks", url="/admin/runbooks"))
    add_home_section(app, HomeSection(permission=LOOKUP, template="runbooks/home_search.html", order=8))
