"""The JSON Schemas of the API's bodies and answers, named once and referenced by the route declarations."""
from __future__ import annotations

from console.deflection.metrics import GROUPS
from console.deflection.models import ESCALATION_CLASSES, OUTCOMES
from console.deflection.rootcause import LINK
from console.deflection.ticket_refs import DEFAULT_REF_PATTERN
from console.deflection.workflow import MAX_NOTE, RECORDABLE_OUTCOMES
from console.product.reveal import CONTROL, REASON_MAX, REASON_MIN
from console.tasks.checks import MAX_REASON_LENGTH
from console.tasks.models import STATUSES
from console.tasks.params import MAX_INT

TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
# A moment as the console stores it: ISO 8601 in UTC (naive, or with a trailing Z on ticket answers).
MOMENT = {"type": "string", "description": "ISO 8601, UTC"}
NULLABLE_MOMENT = {"type": ["string", "null"], "description": "ISO 8601, UTC"}
DAY = {"type": "string", "format": "date"}
# What a run does besides its row changes, such as an email to send: its members depend on the task.
EFFECT = {"description": "an effect after the commit, such as {\"kind\": \"email\", \"to\", \"template\", ...}"}


def or_empty(schema: dict) -> dict:
    """A query value that may also be given empty (`?limit=`), which means its default."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


OPTIONAL_DAY = or_empty(DAY)
# The reference as the default TICKET_REF_PATTERN allows it; a pasted helpdesk URL is also taken.
TICKET_REF = {"type": "string", "pattern": f"^(?:{DEFAULT_REF_PATTERN})$",
              "description": "the helpdesk's ticket reference (TICKET_REF_PATTERN; by default 1 to 40 letters, "
                             "digits and - _ # .)"}
# A reason may hold newlines and tabs, but no other control character.
REASON = {"type": "string", "minLength": 1, "maxLength": MAX_REASON_LENGTH,
          "pattern": r"^[^\x00-\x08\x0b-\x1f\x7f]*[^\s\x00-\x08\x0b-\x1f\x7f][^\x00-\x08\x0b-\x1f\x7f]*$",
          "description": "why, in the requester's words; it goes into the audit trail"}
# Why personal data is revealed: at least REASON_MIN characters from the first to the last visible one.
_VISIBLE, _ANY = rf"[^\s{CONTROL}]", f"[^{CONTROL}]"
REVEAL_REASON = {"type": "string", "maxLength": REASON_MAX,
                 "pattern": rf"^{_ANY}*{_VISIBLE}{_ANY}{{{REASON_MIN - 2},}}{_VISIBLE}{_ANY}*$",
                 "description": f"why, in the caller's words: {REASON_MIN} to {REASON_MAX} characters; audited"}


# A record's columns as declared: personal data masked unless revealed, money as {"cents", "currency", "text"}.
FIELDS = {"type": "object", "description": "column -> value; personal data masked unless revealed; money as "
                                           "{\"cents\", \"currency\", \"text\"}"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


WHY = {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": "\\S", "description": "one line"}


def obj(properties: dict, required: tuple[str, ...] | None = None, **extra) -> dict:
    """An object with these members; all of them required unless `required` names fewer."""
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required), **extra}


def rows_answer(row: dict, *extra_required: str) -> dict:
    """A statistics answer: rows, and the range and scope they cover."""
    return obj({"rows": {"type": "array", "items": row}, "from": DAY, "to": DAY, "category": NULLABLE_TEXT,
                "team": NULLABLE_TEXT}, ("rows", "from", "to", "category", "team", *extra_required))


CHANGE = obj({"table": TEXT, "key": {"type": ["integer", "string", "null"]},
              "before": {"type": ["object", "null"]}, "after": {"type": ["object", "null"]}})

RUN = obj({
    "id": {"type": "integer"}, "task": TEXT, "status": {"enum": list(STATUSES)}, "ticket": TEXT, "reason": TEXT,
    "actor": TEXT, "params": {"type": "object"}, "changes": {"type": "array", "items": ref("Change")},
    "result": TEXT, "error": TEXT, "created_at": MOMENT, "approved_by": NULLABLE_TEXT,
    "risk": NULLABLE_TEXT, "source": NULLABLE_TEXT, "effects": {"type": ["array", "null"], "items": EFFECT},
    "started_at": NULLABLE_MOMENT, "finished_at": NULLABLE_MOMENT, "approved_at": NULLABLE_MOMENT,
    "decision_reason": TEXT, "approval_reasons": TEXT, "preview_hash": TEXT, "undo_of": NULLABLE_INT,
    "undone_by": NULLABLE_INT, "customer": TEXT, "order_id": NULLABLE_INT,
    "bulk_id": {**NULLABLE_INT, "description": "the bulk the run is an item of "
                "(`GET /api/v1/bulk/<id>`); null for a single run"},
    "record": {**NULLABLE_TEXT, "description": "the record of the product package the run was on (the record "
               "its task is offered on); null for a task offered on none, and for runs made before 2026-12-07"},
    "record_key": {**NULLABLE_TEXT, "description": "the value the task's record_param took on that record, as "
                   "text (personal data masked)"},
    "suggested_reply": {"type": ["string", "null"], "description": "the task's reply to the customer once the run "
                        "succeeded on a ticket (personal data masked); null otherwise"},
}, ("id", "task", "status", "ticket", "reason", "actor", "params", "changes", "result", "error", "created_at",
    "approved_by"))

EVENT = obj({"id": {"type": "integer"}, "kind": TEXT, "at": MOMENT, "actor": NULLABLE_TEXT}, ("id", "kind", "at"))

TICKET = obj({
    "ref": TEXT, "outcome": {"enum": list(OUTCOMES)}, "category": NULLABLE_TEXT, "team": NULLABLE_TEXT,
    "task": NULLABLE_TEXT, "false_deflection": {"type": ["boolean", "null"]}, "escalation_class": NULLABLE_TEXT,
    "missing_tool": NULLABLE_TEXT, "assignee": NULLABLE_TEXT, "dev_minutes": NULLABLE_INT,
    "created_at": NULLABLE_MOMENT, "closed_at": NULLABLE_MOMENT, "escalation_closed_at": NULLABLE_MOMENT,
    "helpdesk_url": {"type": ["string", "null"], "description": "the ticket in the helpdesk, when "
                     "HELPDESK_URL_TEMPLATE is set"},
    "customer": NULLABLE_TEXT,
    "events": {"type": "array", "items": ref("TicketEvent")},
    "runs": {"type": "array", "description": "each task run once, from its request to its outcome", "items": obj({
        "run_id": NULLABLE_INT, "task": TEXT, "status": TEXT, "requested_by": TEXT, "requested_at": MOMENT,
        "approved_by": NULLABLE_TEXT, "decision": {"enum": ["approved", "rejected", "expired", None]},
        "decided_by": NULLABLE_TEXT, "decided_at": NULLABLE_MOMENT, "ended_at": NULLABLE_MOMENT,
        "undo_of": NULLABLE_INT}, ("run_id", "task", "status", "requested_by", "requested_at"))},
}, ("ref", "outcome", "events"))

TICKET_SUMMARY = obj({
    "ref": TEXT, "outcome": {"enum": list(OUTCOMES)}, "category": TEXT, "assignee": TEXT, "customer": TEXT,
    "updated_at": MOMENT, "helpdesk_url": {"type": ["string", "null"]},
}, ("ref", "outcome", "category", "assignee", "updated_at"))

TASK = obj({
    "name": TEXT, "title": TEXT, "category": TEXT, "risk": {"enum": ["low", "medium", "high"]},
    "risk_rule": TEXT, "description": NULLABLE_TEXT, "roles": {"type": "array", "items": TEXT},
    "undoable": {"type": "boolean"},
    "params": {"type": "object", "description": "the task's parameters as a JSON Schema (draft 2020-12)"},
}, ("name", "title", "category", "risk", "description", "params"))

RUNBOOK = obj({
    "slug": TEXT, "title": TEXT, "category": NULLABLE_TEXT, "tasks": {"type": "array", "items": TEXT},
    "symptoms": {"type": "array", "items": TEXT}, "owner": NULLABLE_TEXT, "reviewed": {"type": ["string", "null"]},
    "escalate_to": {"type": ["object", "null"]}, "error": NULLABLE_TEXT,
    "score": {"type": "number"}, "matched_symptoms": {"type": "array", "items": TEXT},
}, ("slug", "title", "category", "tasks"))

AUDIT_ENTRY = obj({
    "seq": {"type": "integer"}, "created_at": MOMENT, "actor": TEXT, "action": TEXT, "subject_type": TEXT,
    "subject_id": TEXT, "ticket": TEXT, "reason": TEXT, "task": TEXT, "customer": TEXT, "outcome": TEXT,
    "details": {"type": ["object", "null"]}, "prev_hash": TEXT, "hash": TEXT,
})

ERROR = obj({
    "error": obj({"code": TEXT, "message": TEXT,
                  "fields": {"type": "object", "description": "the bad field or rule -> what is wrong with it"}}),
    "run": ref("Run"),
}, ("error",), description="Every error answer. A refused or failed run comes along as `run`.")

SCHEMAS = {
    "Error": ERROR,
    "Change": CHANGE,
    "Run": RUN,
    "Task": TASK,
    "TicketEvent": EVENT,
    "Ticket": TICKET,
    "TicketSummary": TICKET_SUMMARY,
    "Runbook": RUNBOOK,
    "AuditEntry": AUDIT_ENTRY,
    "RunRequest": obj({"params": {"type": "object", "description": "the task's parameters"}, "ticket": TICKET_REF,
                       "reason": REASON}, ("ticket", "reason")),
    "Decision": obj({"reason": REASON}),
    "UndoRequest": obj({"ticket": TICKET_REF, "reason": REASON}, ("reason",)),
    "ReconcileRequest": obj({"settle_as": {"enum": ["succeeded", "failed"]}, "reason": REASON}, ()),
    "OutcomeRequest": obj({
        "outcome": {"enum": list(RECORDABLE_OUTCOMES)},
        "escalation_class": {"enum": [*ESCALATION_CLASSES, "", None],
                             "description": "required when the outcome is `escalated`; empty or null: none"},
        "category": {"type": ["string", "null"], "maxLength": 60},
        "missing_tool": {"type": ["string", "null"], "maxLength": 200,
                         "description": "required when the outcome is `escalated`: the task or runbook that "
                                        "would have let the agent resolve the ticket"},
        "note": {"type": ["string", "null"], "maxLength": MAX_NOTE},
        "urgent": {"type": ["boolean", "null"],
                   "description": "an escalation that notifies the developer on duty at once; otherwise it waits "
                                  "for the daily digest (CONSOLE_DIGEST_TIME)"},
    }, ("outcome",), **{"if": {"properties": {"outcome": {"const": "escalated"}}},
                        "then": {"required": ["escalation_class", "missing_tool"],
                                 "properties": {"escalation_class": {"enum": list(ESCALATION_CLASSES)},
                                                "missing_tool": {"type": "string", "minLength": 1, "maxLength": 200,
                                                                 "pattern": "\\S"}}}}),
    "DevTimeRequest": obj({"minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                           "note": {"type": ["string", "null"], "maxLength": MAX_NOTE},
                           "five_whys": {"anyOf": [ref("FiveWhys"), {"type": "null"}]},
                           "close": {"type": "boolean", "description": "close the escalation; needs the 5-whys "
                                     "record, now or from earlier (else 409)"}}, ("minutes",)),
    "FiveWhys": obj({"why_1": WHY, "why_2": WHY, "why_3": WHY, "why_4": WHY,
                     "root_cause": WHY | {"maxLength": 300, "description": "the fifth why: the root cause"},
                     "action_kind": {"enum": ["runbook", "task", "product_fix"]},
                     "action": WHY | {"maxLength": 300,
                                      "description": "the runbook to write, the task to build or the fix"},
                     "action_link": {"type": ["string", "null"], "maxLength": 500, "pattern": f"^(?:{LINK})?$",
                                     "description": "an http(s) link; required for a product fix"}},
                    ("why_1", "why_2", "why_3", "why_4", "root_cause", "action_kind", "action"),
                    **{"if": {"properties": {"action_kind": {"const": "product_fix"}}},
                       "then": {"required": ["action_link"],
                                "properties": {"action_link": {"type": "string", "minLength": 1}}}}),
    "Preview": obj({
        "task": TEXT, "params": {"type": "object"}, "changes": {"type": "array", "items": ref("Change")},
        "effects": {"type": "array", "items": EFFECT}, "summary": TEXT, "risk": TEXT,
        "needs_approval": {"type": "boolean"}, "approval_reasons": {"type": "array", "items": TEXT},
        "preview_hash": TEXT,
    }, ("changes", "summary")),
    "RunAnswer": obj({"run": ref("Run")}),
    "RunList": obj({"runs": {"type": "array", "items": ref("Run")}}),
    "TaskList": obj({"tasks": {"type": "array", "items": ref("Task")}}),
    "TaskAnswer": obj({"task": ref("Task")}),
    "TicketAnswer": obj({"ticket": ref("Ticket")}),
    "TicketPage": obj({"tickets": {"type": "array", "items": ref("TicketSummary")},
                       "next": {"type": ["string", "null"], "description": "the `after` of the next page; null "
                                "on the last"}}),
    "OutcomeAnswer": obj({"ticket": ref("Ticket"), "changed": {"type": "boolean"}}, ("ticket",)),
    "RunbookList": obj({"runbooks": {"type": "array", "items": ref("Runbook")}}),
    "RunbookPage": {"allOf": [ref("Runbook"), obj({
        "html": {"type": "string", "description": "sanitised HTML"},
        "headings": {"type": "array", "items": {"type": "object"}},
        "checklist": {"type": "array", "items": {"type": "object"}}}, ("html",))]},
    "AuditEntries": obj({"entries": {"type": "array", "items": ref("AuditEntry")}}),
    "DeflectionStats": rows_answer(obj({"tickets": {"type": "integer"}, "deflected": {"type": "integer"},
                                        "escalated": {"type": "integer"},
                                        "deflection_rate": {"type": ["number", "null"]}}, ()), "group_by")
    | {"description": "`totals` over the range, and one row per week, category or task"},
    "StatsRows": rows_answer({"type": "object"}),
    "SprintRequest": obj({
        "name": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "\\S"},
        "starts_on": {"type": "string", "format": "date"}, "ends_on": {"type": "string", "format": "date",
                                                                       "description": "on or after starts_on"},
        "planned_points": {"type": "integer", "minimum": 0, "maximum": 10000},
        "completed_points": {"type": "integer", "minimum": 0, "maximum": 10000},
    }, ("name", "starts_on", "ends_on", "planned_points", "completed_points")),
    "Sprint": obj({"id": {"type": "integer"}, "name": TEXT, "starts_on": TEXT, "ends_on": TEXT,
                   "planned_points": {"type": "integer"}, "completed_points": {"type": "integer"}},
                  ("id", "name", "starts_on", "ends_on", "planned_points", "completed_points")),
    "SprintAnswer": obj({"sprint": ref("Sprint")}, ("sprint",)),
    "SprintList": obj({"rows": {"type": "array", "items": {"type": "object"}},
                       "plan": {"type": ["object", "null"], "description": "median completed points of the last "
                                "five sprints (`points`), with `low` and `high`; null before the first sprint"},
                       "capacity_hours_per_week": {"type": "number"}}, ("rows", "plan")),
    "RecordKinds": obj({"records": {"type": "array", "items": obj({
        "name": TEXT, "title": TEXT, "search": {"type": "array", "items": TEXT}})}}),
    "RecordPage": obj({"items": {"type": "array", "items": ref("RecordItem")}, "next": NULLABLE_TEXT}),
    "RecordItem": obj({"key": {"type": ["string", "integer"]}, "title": TEXT, "fields": FIELDS}),
    "RecordAnswer": obj({"record": obj({
        "key": {"type": ["string", "integer"]}, "title": TEXT, "fields": FIELDS,
        "related": {"type": "object", "additionalProperties": {"type": "array", "items": ref("RecordItem")}},
        "tasks": {"type": "array", "items": TEXT},
        "not_applying": {"type": "object", "additionalProperties": TEXT}})}),
    "RevealRequest": obj({"reason": REVEAL_REASON, "ticket": or_empty(TICKET_REF)},
                         ("reason",)),
}

GROUP_BY = or_empty({"enum": list(GROUPS)})
RUN_ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
