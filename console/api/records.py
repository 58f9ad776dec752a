"""Records over JSON (read-only): the product's records, a search, one record with its related ones, a reveal."""
from __future__ import annotations

from flask import jsonify, request

from console.api.base import ApiError, api_user, bp, error_response, json_body, require
from console.api.describe import Query, documented
from console.permissions import LOOKUP, REVEAL_PII
from console.db import target_session
from console.deflection.ticket_refs import TicketError, clean_ref
from console.product.queries import CURSOR, MAX_CURSOR, MAX_QUERY, QueryInputError, coerce, record_detail
from console.product.reveal import RevealRefused, audit_reveal, check_reveal
from console.product.schema import ProductSchemaError, product_schema
from console.product.searches import search_page
from console.tasks.registry import task_registry


@bp.errorhandler(ProductSchemaError)
def _schema_error(exc: ProductSchemaError):
    return error_response(503, "product_schema", f"the product database does not match its declarations: {exc}")


def _reflected(name: str):
    reflected = product_schema().record(name)
    if reflected is None:
        raise ApiError(404, "not_found", f"no record named {name!r}")
    return reflected


def _detail(name: str, key: str, revealed: bool) -> dict:
    schema = product_schema()
    reflected = _reflected(name)
    found = record_detail(target_session(), schema, reflected, key, revealed=revealed)
    if found is None:
        raise ApiError(404, "not_found", f"no {name} with the key {key!r}")
    specs = task_registry().offered_on(name, api_user())
    # A task that says when it applies reads the raw row (the answer's fields are masked and formatted):
    # one keyed query for them all, and none when no task asks.
    row = _raw_row(reflected, coerce(reflected.key, key)) if any(spec.applies_when for spec in specs) else None
    reasons = {spec.name: spec.not_applying(row) for spec in specs} if row is not None else {}
    found["tasks"] = [spec.name for spec in specs if not reasons.get(spec.name)]
    found["not_applying"] = {task: reason for task, reason in reasons.items() if reason}
    return {"record": found}


def _raw_row(reflected, key):
    return target_session().execute(reflected.statement(("one", "detail")), {"key": key}).mappings().first() or {}


SEARCH_QUERY = (Query("q", {"type": "string", "maxLength": MAX_QUERY},
                      "exact keys first, then prefixes, then substrings (three letters or digits in a row); "
                      "none or empty: every row in key order"),
                Query("after", {"type": "string", "maxLength": MAX_CURSOR, "pattern": f"^{CURSOR.pattern}$"},
                      "the `next` cursor of the page before; none or empty: the first page"))


def record_names(app) -> dict:
    """The `record` path parameter: one of the names the product package declares."""
    return {"type": "string", "enum": list(product_schema(app).product.records)}


@bp.get("/records")
@require(LOOKUP)
@documented("The records the product package declares", answers={200: "RecordKinds"}, errors=(403,))
def list_records():
    records = product_schema().product.records.values()
    return jsonify({"records": [{"name": r.name, "title": r.label, "search": list(r.searchable)} for r in records]})


@bp.get("/records/<record>")
@require(LOOKUP)
@documented("A page of one kind of record, searched or in key order", answers={200: "RecordPage"},
            errors=(403, 404, 422), query=SEARCH_QUERY, path={"record": record_names},
            description="`after` takes only the `next` of the page before (another value gets a 400); `q` on "
                        "a record without search keys gets a 422. Roles that may not reveal personal data "
                        "match personal columns only whole; a search that leaves them nothing is a 403.")
def search_records(record: str):
    reflected = _reflected(record)
    try:
        return jsonify(search_page(target_session(), reflected, api_user(), q=request.args.get("q"),
                                   after=request.args.get("after") or None))
    except QueryInputError as exc:
        code = "forbidden" if exc.status == 403 else "invalid"
        raise ApiError(exc.status, code, exc.message, {exc.field: exc.message}) from None


@bp.get("/records/<record>/<key>")
@require(LOOKUP)
@documented("One record, its related records and the tasks offered on it (personal data masked)",
            answers={200: "RecordAnswer"}, errors=(403, 404), path={"record": record_names})
def get_record(record: str, key: str):
    return jsonify(_detail(record, key, revealed=False))


@bp.post("/records/<record>/<key>/reveal")
@require(REVEAL_PII)
@documented("The record with its personal data unmasked; audited", answers={200: "RecordAnswer"},
            body="RevealRequest", errors=(403, 404), path={"record": record_names},
            description="Roles that may not reveal personal data (product owners) get a 403.")
def reveal_record(record: str, key: str):
    user = api_user()
    body = json_body()
    try:
        reason = check_reveal(user, body.get("reason"))
    except RevealRefused as exc:
        raise ApiError(exc.status, "forbidden" if exc.status == 403 else "invalid", exc.message,
                       {exc.field: exc.message}) from None
    ticket = body.get("ticket")
    try:
        ticket = clean_ref(ticket) if ticket not in (None, "") else ""
    except TicketError as exc:
        raise ApiError(400, "invalid", f"ticket: {exc}", {"ticket": str(exc)}) from None
    shown = _detail(record, key, revealed=True)  # a 404 before anything is audited
    audit_reveal(user, record, shown["record"]["key"], reason, ticket)
    return jsonify(shown)
