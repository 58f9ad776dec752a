"""GET /api/v1/runbooks and /api/v1/runbooks/<slug>: the runbooks, searchable, with safe HTML."""
from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from werkzeug.routing import BuildError

from console.api.base import ApiError, api_user, bp, require
from console.api.describe import Query, documented
from console.db import console_session
from console.origin import may_write_on_get
from console.permissions import LOOKUP
from console.runbooks.describe import describe_rendered, describe_runbook
from console.runbooks.gaps import note_search_miss
from console.runbooks.render import default_task_url, render_markdown
from console.runbooks.search import MAX_QUERY_CHARS

MAX_RESULTS = 50


def _library():
    return current_app.extensions["runbooks"]


def _task_url(name: str, params: dict[str, str]) -> str:
    try:
        return url_for("tasks.task_form", name=name, **params)
    except BuildError:
        return default_task_url(name, params)


def _runbook_url(slug: str, anchor: str | None) -> str:
    return url_for("runbooks.page", slug=slug) + (f"#{anchor}" if anchor else "")


@bp.get("/runbooks")
@require(LOOKUP)
@documented("Every runbook, or with `q` the matching ones, best first", answers={200: "RunbookList"},
            query=(Query("q", {"type": "string"}, "words of a symptom"),))
def list_runbooks():
    """Every runbook, or with ?q= the matching ones, best first; a search that finds nothing is recorded."""
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    if not query.strip():
        return jsonify({"runbooks": [describe_runbook(runbook) for runbook in _library().all()]})
    hits = _library().search(query, limit=MAX_RESULTS)
    if not hits and may_write_on_get(request):
        note_search_miss(console_session(), query, actor=api_user().email)
    return jsonify({"runbooks": [
        {**describe_runbook(hit.runbook), "score": hit.score, "matched_symptoms": list(hit.matched_symptoms)}
        for hit in hits
    ]})


@bp.get("/runbooks/<slug>")
@require(LOOKUP)
@documented("One runbook with its sanitised HTML", answers={200: "RunbookPage"}, errors=(404,))
def get_runbook(slug: str):
    """One runbook with its sanitised HTML; task buttons link to the task forms, unfilled."""
    runbook = _library().get(slug)
    if runbook is None:
        raise ApiError(404, "not_found", f"there is no runbook called {slug!r}")
    rendered = render_markdown(runbook.body, slug=slug, task_url=_task_url, runbook_url=_runbook_url)
    return jsonify(describe_rendered(runbook, rendered))
