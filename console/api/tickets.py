"""Tickets over JSON: a helpdesk integration records outcomes and reads them."""
from __future__ import annotations

from functools import wraps

from flask import jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import MethodNotAllowed

from console.api.base import ApiError, api_user, bp, json_body, require
from console.api.describe import Query, documented
from console.api.schemas import TICKET_REF, or_empty
from console.audit.chain import AuditUnavailable
from console.permissions import LOG_DEV_TIME, WORK_TICKETS, role_refusal, user_can
from console.db import console_session
from console.deflection import workflow
from console.deflection.listing import MAX_QUERY, find_tickets, parse_query, ticket_summary
from console.deflection.models import OUTCOMES
from console.deflection.ticket_refs import TicketError, clean_ref
from console.deflection.tickets import find_ticket


def _ticket_error(exc: TicketError) -> ApiError:
    field = exc.field  # a bad reference names `ticket`, wherever it was given (the contract)
    if isinstance(exc, workflow.TicketStateError):  # a valid body the ticket's state refuses
        return ApiError(409, "conflict", str(exc), {field: str(exc)})
    return ApiError(400, "invalid", str(exc), {field: str(exc)})


def _unaudited(session, exc: SQLAlchemyError) -> AuditUnavailable:
    """The event and its audit entry commit together; when that fails, neither exists (503, never a 500)."""
    session.rollback()
    return AuditUnavailable(f"the audit trail could not be written: {exc.__class__.__name__}")


def may_read_tickets(view):
    """Agents and leads (who work tickets) and developers (who close escalations) may read a ticket."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = api_user()
        if not (user_can(user, WORK_TICKETS) or user_can(user, LOG_DEV_TIME)):
            raise ApiError(403, "forbidden", role_refusal(user.role, "read tickets"))
        return view(*args, **kwargs)

    wrapped.required_permission = (WORK_TICKETS, LOG_DEV_TIME)  # any of them (the OpenAPI description)
    return wrapped


@bp.post("/tickets/<path:ref>/outcome")
@require(WORK_TICKETS)
@documented("Record an outcome: resolved, escalated or reopened; a new reference creates the ticket",
            answers={200: "OutcomeAnswer"}, body="OutcomeRequest",
            path={"ref": TICKET_REF}, links={200: {"GetTicket": ("get_ticket", {"ref": "$request.path.ref"})}})
def record_ticket_outcome(ref: str):
    """Record `resolved`, `escalated` or `reopened`; the same outcome twice changes nothing."""
    body = json_body()
    session = console_session()
    try:
        ref = clean_ref(ref)
        request = workflow.parse_outcome(body)
        ticket, changed = workflow.record_outcome(session, ref, request, actor=api_user().email)
        session.commit()
    except TicketError as exc:
        session.rollback()
        raise _ticket_error(exc) from None
    except SQLAlchemyError as exc:
        raise _unaudited(session, exc) from exc
    return jsonify({"ticket": workflow.ticket_to_dict(session, ticket), "changed": changed})


@bp.post("/tickets/<path:ref>/dev-time")
@require(LOG_DEV_TIME)
@documented("Log developer minutes on an escalation, its 5-whys record, and close it",
            answers={200: "TicketAnswer"}, body="DevTimeRequest", errors=(404, 409),
            path={"ref": TICKET_REF}, description="A ticket that was never escalated gets a 409. Closing "
            "needs the 5-whys record (`five_whys`), sent now or earlier: else a 409 naming `five_whys`.")
def log_ticket_dev_time(ref: str):
    """A developer logs minutes on an escalation, optionally a root cause, and may close it."""
    body = json_body()
    session = console_session()
    close = body.get("close", False)
    if not isinstance(close, bool):
        raise ApiError(400, "invalid", "close must be true or false", {"close": "must be true or false"})
    minutes = body.get("minutes")
    if isinstance(minutes, float) and minutes.is_integer():  # 15.0 is an integer to JSON Schema too
        minutes = int(minutes)
    if isinstance(minutes, bool) or not isinstance(minutes, int):  # the form's "15" is the browser's, not JSON's
        raise ApiError(400, "invalid", "minutes must be a whole number", {"minutes": "expected an integer"})
    try:
        ref = clean_ref(ref)
        if find_ticket(session, ref) is None:
            raise ApiError(404, "not_found", f"no ticket {ref!r}")
        ticket = workflow.log_dev_time(session, ref, actor=api_user().email, minutes=minutes,
                                       note=_text(body, "note"), close=close, five_whys=_five_whys(body))
        session.commit()
    except TicketError as exc:
        session.rollback()
        raise _ticket_error(exc) from None
    except SQLAlchemyError as exc:
        raise _unaudited(session, exc) from exc
    return jsonify({"ticket": workflow.ticket_to_dict(session, ticket)})


def _five_whys(body: dict) -> dict | None:
    value = body.get("five_whys")
    if value is not None and not isinstance(value, dict):
        raise ApiError(400, "invalid", "five_whys must be an object", {"five_whys": "must be an object"})
    if value is not None and not value:
        raise ApiError(400, "invalid", "five_whys needs why_1 to why_4, root_cause, action_kind and action",
                       {"five_whys": "empty"})
    return value


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid", f"{name} must be a string", {name: "must be a string"})
    return value or ""


LIST_QUERY = (
    Query("status", or_empty({"enum": list(OUTCOMES)}), "only tickets with this outcome"),
    Query("category", {"type": "string", "maxLength": 60, "pattern": r"^[^\x00-\x1f\x7f]*$"},
          "only tickets of this category (compared in lower case)"),
    Query("mine", or_empty({"enum": ["0", "1"]}), "1: only the tickets you worked on (ran a task, read a "
          "runbook or recorded an outcome on) or that are assigned to you"),
    Query("q", {"type": "string", "maxLength": MAX_QUERY, "pattern": r"^[^\x00-\x1f\x7f]*$"},
          "a ticket reference (or its helpdesk URL), or a customer's email"),
    Query("after", or_empty({"type": "string", "pattern": "^[1-9][0-9]{0,8}$"}),
          "the `next` of the page before; none or empty: the first page"),
)


@bp.get("/tickets")
@may_read_tickets
@documented("Tickets, newest first, by outcome, yours, or found by reference or customer",
            answers={200: "TicketPage"}, errors=(403,), query=LIST_QUERY,
            description="Fifty a page; `next` is the `after` of the following page. A bad parameter is a 400 "
                        "naming it.")
def list_tickets():
    try:
        query = parse_query(request.args, api_user().email)
    except TicketError as exc:
        raise ApiError(400, "invalid", str(exc), {exc.field: str(exc)}) from None
    tickets, after = find_tickets(console_session(), query)
    return jsonify({"tickets": [ticket_summary(ticket) for ticket in tickets],
                    "next": str(after) if after is not None else None})


# A reference may hold slashes (TICKET_REF_PATTERN), so GET /tickets/T-1/outcome reaches get_ticket.
POST_ONLY = ("/outcome", "/dev-time")


@bp.get("/tickets/<path:ref>")
@may_read_tickets
@documented("One ticket, its derived outcome, its events and each task run's story", answers={200: "TicketAnswer"},
            errors=(400, 403, 404), path={"ref": TICKET_REF})
def get_ticket(ref: str):
    session = console_session()
    try:
        ref = clean_ref(ref)
    except TicketError as exc:
        if ref.endswith(POST_ONLY):  # GET on the path of a POST-only route: the method is wrong, not the ticket
            raise MethodNotAllowed(valid_methods=["POST"]) from None
        raise _ticket_error(exc) from None
    ticket = find_ticket(session, ref)
    if ticket is None:
        raise ApiError(404, "not_found", f"no ticket {ref!r}")
    return jsonify({"ticket": workflow.ticket_to_dict(session, ticket)})
