"""How an /api/v1 route describes itself: `@documented(...)` beside `@bp.get(...)`, read by the OpenAPI builder.

The route's method, path and path parameters come from the URL map; its permission (403) from `@require`;
every route can answer 401 (no or a bad token) and 503 (a database is down). The declaration adds the rest:
what a success looks like, the body, the query, and the errors only this route gives.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Query:
    """A query-string parameter: its name, JSON Schema and meaning."""

    name: str
    schema: dict
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: dict  # success status -> a component name or a JSON Schema
    errors: tuple[int, ...] = ()
    body: str | dict | None = None
    body_required: bool = True
    query: tuple[Query, ...] = ()
    headers: tuple[Query, ...] = ()
    # True when the body's `params` are the task's own parameters: the document then has one path per task.
    per_task: bool = False
    # path parameter -> a JSON Schema narrower than the converter's, or a function of the app that gives one
    path: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)  # success status -> {link name: (operationId, {param: expression})}
    description: str = ""


def documented(summary: str, *, answers: dict, errors: tuple[int, ...] = (), body: str | dict | None = None,
               body_required: bool = True, query: tuple[Query, ...] = (), headers: tuple[Query, ...] = (),
               per_task: bool = False, links: dict | None = None, path: dict | None = None,
               description: str = ""):
    """Attach the route's OpenAPI description to the view function."""
    operation = Operation(summary=summary, answers=answers, errors=tuple(errors), body=body,
                          body_required=body_required, query=tuple(query), headers=tuple(headers),
                          per_task=per_task, links=links or {}, path=path or {}, description=description)

    def attach(view):
        view.openapi = operation
        return view

    return attach


def described(view) -> Operation | None:
    return getattr(view, "openapi", None)
