"""What every route of the JSON API shares: the blueprint, the caller, the one error format, reading the input."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from console.auth import remember_token
from console.auth.services import bearer_user
from console.db import console_reads
from console.extensions import csrf
from console.permissions import role_refusal, user_can


class _ApiBlueprint(Blueprint):
    """A blueprint whose routes never merge slashes.

    Werkzeug answers "/tasks/0//runs" with an HTML 308 to "/tasks/0/runs" by default: under /api/v1 a
    doubled slash is an unknown path (a JSON 404), and a path parameter keeps every slash it was sent with.
    """

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        options.setdefault("merge_slashes", False)
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)


bp = _ApiBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer calls need no token; session calls are checked in _authenticate


class ApiError(Exception):
    """An error answer: {"error": {"code", "message", "fields"}} with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        found = bearer_user(console_reads(), token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            return error_response(401, "unauthorized", "the bearer token is missing, unknown or revoked")
        g.api_user = found[0]
        remember_token(found[1])
        return None
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                csrf.protect()
            except CSRFError as exc:
                return error_response(400, "csrf", f"CSRF check failed: {exc.description}")
        g.api_user = current_user._get_current_object()
        return None
    return error_response(401, "unauthorized", "send Authorization: Bearer <token>")


def api_user():
    return g.api_user


def require(permission: str):
    """Decorate an endpoint so that callers without `permission` get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not user_can(g.api_user, permission):
                return error_response(403, "forbidden", role_refusal(g.api_user.role, "do this"))
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def _invalid_text_member(data) -> str | None:
    """The top-level member holding a NUL or a lone surrogate, or "body"; None when every string can be stored.

    JSON's \\u0000 and \\ud800 escapes decode to characters that PostgreSQL text cannot hold or no
    driver can encode (a 500 before this check). Walked without recursion: the body may be nested
    as deep as json allows.
    """
    stack = [("", data)]
    while stack:
        member, value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return member or "body"
            if "\x00" in value:
                return member or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((member or "body", key))
                stack.append((member or (key[:60] if key.isprintable() and key.isascii() else "body"), item))
        elif isinstance(value, list):
            stack.extend((member, item) for item in value)
    return None


def json_body() -> dict:
    """The request's JSON object, or a 400 naming the problem."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json.loads gives up on very deep nesting with this, not a ValueError
        raise ApiError(400, "invalid_json", "the body is nested too deeply", {"body": "nested too deeply"}) from None
    bad = _invalid_text_member(data)
    if bad is not None:
        raise ApiError(400, "invalid_json", f"{bad} holds a character that cannot be stored (NUL or a lone surrogate)",
                       {bad: "cannot hold a NUL character (\\u0000) or a lone surrogate (such as \\ud800)"})
    if data is None:
        raise ApiError(400, "invalid_json", "the body must be a JSON object (Content-Type: application/json)")
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object", {"body": "expected an object"})
    return data



def optional_body() -> dict:
    """The request's JSON object, or {} when nothing was sent (a decision needs no body)."""
    return json_body() if request.get_data() else {}


def text_field(body: dict, name: str, fields: dict) -> str:
    """A string member of the body ("" when absent or null); a wrong type is noted in `fields`."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        fields[name] = "must be a string"
        return ""
    return value


def decision_reason() -> str:
    """The decision's reason from a body like {"reason": "..."}; a missing body counts as no reason."""
    fields: dict = {}
    reason = text_field(optional_body(), "reason", fields)
    if fields:
        raise ApiError(400, "invalid", "reason must be a string", fields)
    return reason


def query_int(name: str, default: int | None, low: int, high: int, *, empty_is_default: bool = True) -> int | None:
    """The query argument `name` as a whole number from `low` to `high`; `default` when absent (or empty, unless
    the route's documented schema refuses an empty value)."""
    raw = request.args.get(name)
    text = (raw or "").strip()
    if raw is None or (not text and empty_is_default):
        return default
    # isdigit() alone admits "²"; the length bound keeps int() from ever parsing a huge number.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)) or not low <= int(text) <= high:
        rule = f"a whole number from {low} to {high}"
        raise ApiError(400, "invalid", f"{name} must be {rule}", {name: f"expected {rule}, got {raw[:40]!r}"})
    return int(text)
