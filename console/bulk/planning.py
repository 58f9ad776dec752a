"""A bulk before anything is written: every item checked as a single run is, the decision, the preview.

Each item passes the runner's own checks (`check_request`: the task and the caller's right to it,
the ticket, the reason, the parameters) and its own policy decision (`decide`), so a bulk follows
exactly the rules of its items run one by one. A bad item is a 400 naming it by its index
(`items[3].order_id`), and nothing is queued. On top, caps count the bulk's total: a bulk moving
more than the requester's cap needs approval even when no item alone would.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from console.bulk.models import BulkItem
from console.db import console_session, utcnow
from console.jsontext import canonical_json
from console.permissions import role_title
from console.tasks.disclosure import preview_personal
from console.tasks.checks import RunRequest, TaskError, check_request, resolve
from console.tasks.execution import TaskFailure, describe, rehearse
from console.tasks.params import has_secrets, params_to_json
from console.tasks.policy import amount_caps, amount_of, decide
from console.tasks.spec import Refusal, TaskSpec
from console.bulk.settings import MAX_ITEMS

MESSAGE_FIELDS = 20  # bad items named in the error's message; `fields` names all of them
SAMPLE_ROWS = 5
_VARYING = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d+")


@dataclass
class Plan:
    """A checked bulk: the typed items, what they are stored as, and whether it needs an approval."""

    spec: TaskSpec
    ticket: str
    reason: str
    typed: list[dict]
    stored: list[dict]
    amount_cents: int | None
    approval_reasons: list[str]
    items_hash: str

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval_reasons)


@dataclass
class BulkPreview:
    """What the bulk would do, rehearsed item by item and rolled back: nothing of it is written."""

    total: int
    amount_cents: int | None
    needs_approval: bool
    approval_reasons: list[str]
    refused: dict[str, int] = field(default_factory=dict)  # a refusal's reason (examples vary) -> how many
    failed: int = 0
    samples: list[dict] = field(default_factory=list)  # {"index", "summary", "changes"} of the first items
    amount_text: str = ""  # the total as people read it, in the task's currency (not in the API's answer)

    def to_dict(self) -> dict:
        return {"total": self.total, "amount_cents": self.amount_cents, "needs_approval": self.needs_approval,
                "approval_reasons": self.approval_reasons, "refused": self.refused, "failed": self.failed,
                "samples": self.samples}


def items_hash(task: str, ticket: str, reason: str, stored: list[dict]) -> str:
    """What an approval is bound to: the task, the ticket, the reason and each item, in order."""
    body = canonical_json({"task": task, "ticket": ticket, "reason": reason, "items": stored})
    return hashlib.sha256(body.encode()).hexdigest()


def stored_items_hash(bulk) -> str:
    """The hash of a bulk's items as they are stored now, to compare with the one requested and approved."""
    params = console_session().scalars(select(BulkItem.params).where(BulkItem.bulk_id == bulk.id)
                                       .order_by(BulkItem.idx))
    return items_hash(bulk.task, bulk.ticket, bulk.reason, [json.loads(text) for text in params])


def _bad_items(fields: dict) -> TaskError:
    names = list(fields)
    shown = "; ".join(f"{name}: {fields[name]}" for name in names[:MESSAGE_FIELDS])
    more = f" (and {len(names) - MESSAGE_FIELDS} more)" if len(names) > MESSAGE_FIELDS else ""
    return TaskError(400, "invalid", f"the bulk is invalid, nothing was queued: {shown}{more}", fields)


def _check_list(items) -> None:
    if not isinstance(items, list) or not items:
        raise TaskError(400, "invalid", "items must be a non-empty list of parameter objects",
                        {"items": "expected a list of 1 to 10000 objects"})
    if len(items) > MAX_ITEMS:
        raise TaskError(400, "invalid", f"a bulk has at most {MAX_ITEMS} items, not {len(items)}",
                        {"items": f"at most {MAX_ITEMS} items"})


def check_items(task: str, items, ticket, reason, actor, source: str = "api") -> Plan:
    """Check every item as a run request; a TaskError naming each bad item by its index otherwise."""
    spec = resolve(task, actor)
    if has_secrets(spec):
        raise TaskError(422, "refused", f"{spec.name} has a secret parameter, and secrets are never stored: it "
                                        "cannot run in bulk")
    _check_list(items)
    fields: dict[str, str] = {}
    checked = []
    for index, params in enumerate(items):
        if not isinstance(params, dict):
            fields[f"items[{index}]"] = "must be an object of parameter values"
            continue
        try:
            checked.append(check_request(RunRequest(task=task, params=params, ticket=ticket, reason=reason,
                                                    actor=actor, source=source)))
        except TaskError as exc:
            if exc.status != 400:
                raise TaskError(exc.status, exc.code, f"items[{index}]: {exc.message}",
                                {f"items[{index}]": exc.message}) from None
            for name, message in exc.fields.items():
                fields[name if name in ("ticket", "reason") else f"items[{index}].{name}"] = message
    if fields:
        raise _bad_items(fields)
    first = checked[0]
    typed = [c.params for c in checked]
    stored = [params_to_json(spec, params) for params in typed]
    return Plan(spec=spec, ticket=first.ticket, reason=first.reason, typed=typed, stored=stored,
                amount_cents=_total(spec, typed), approval_reasons=_approval_reasons(checked, actor),
                items_hash=items_hash(spec.name, first.ticket, first.reason, stored))


def _total(spec: TaskSpec, typed: list[dict]) -> int | None:
    amounts = [amount for amount in (amount_of(spec, params) for params in typed) if amount is not None]
    return sum(amounts) if amounts else None


def _approval_reasons(checked: list, actor) -> list[str]:
    """Why the bulk needs approval: its items' own reasons (counted), and its total above the cap."""
    counts: Counter = Counter()
    first_item: dict[str, int] = {}
    for index, item in enumerate(checked):
        for why in decide(item.spec, item.params, item.risk, actor).reasons:
            counts[why] += 1
            first_item.setdefault(why, index)
    reasons = [f"items[{first_item[why]}]" + (f" and {n - 1} more" if n > 1 else "") + f": {why}"
               for why, n in counts.items()]
    cap = amount_caps().get(actor.role)
    total = _total(checked[0].spec, [item.params for item in checked])
    if cap is not None and total is not None and total > cap:
        spec = checked[0].spec
        reasons.append(f"the bulk moves {spec.amount_text(total)} in total, above the {role_title(actor.role)} limit "
                       f"of {spec.amount_text(cap)}")
    return reasons


def refusal_group(message: str) -> str:
    """A refusal's reason with what varies from item to item (numbers, addresses) left out, to count alike ones."""
    return _VARYING.sub("…", message)


def preview_plan(plan: Plan, actor, sample_rows: int = SAMPLE_ROWS) -> BulkPreview:
    """Rehearse every item (rolled back) to count refusals; the first items' changes are the sample."""
    result = BulkPreview(total=len(plan.typed), amount_cents=plan.amount_cents, needs_approval=plan.needs_approval,
                         approval_reasons=plan.approval_reasons,
                         amount_text=plan.spec.amount_text(plan.amount_cents))
    refused: Counter = Counter()
    now = utcnow()
    for index, params in enumerate(plan.typed):
        try:
            rehearsal = rehearse(plan.spec, params, actor=actor.email, ticket=plan.ticket, reason=plan.reason,
                                 now=now)
        except Refusal as exc:
            refused[refusal_group(exc.message)] += 1
            continue
        except TaskFailure:
            result.failed += 1
            continue
        if len(result.samples) < sample_rows:  # masked as a single run's preview is to its requester
            personal = preview_personal(plan.spec, params)
            changes = [personal.change(change) for change in rehearsal.changes]
            summary = describe(plan.spec.title, rehearsal.changes, rehearsal.effect_lines, rehearsal.result)
            result.samples.append({"index": index, "params": plan.stored[index], "changes": changes,
                                   "summary": personal.text(summary)})
    result.refused = dict(refused.most_common())
    return result
