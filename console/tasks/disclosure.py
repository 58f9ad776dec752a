"""What previews and runs show of the product's personal data: masked, unless the reader typed the value.

A preview may show the values its requester typed into that very request; anything the task read from the
product database stays masked there too. A run is read by others (run pages and lists, approvals, the API),
so everything personal in it is masked, the typed values included. Only a reveal unmasks (lookup), and the
audit trail keeps the values whole for the roles that read it.

Which columns are personal, and how each is masked, is the lookup's one table (console.lookup.masking);
`Personal` (console.formatting) applies it. This module decides, once, who is shown what.
"""
from __future__ import annotations

import dataclasses

from console.formatting import Personal
from console.tasks.execution import Preview

RUN_TEXTS = ("result", "error", "reason", "decision_reason", "approval_reasons")


def preview_personal(spec, params: dict) -> Personal:
    """The masks of a preview: the requester's own typed values whole (never a secret), the rest masked."""
    secret = {param.name for param in spec.params if param.is_secret} if spec else set()
    return Personal(typed=[value for name, value in params.items()
                           if name not in secret and isinstance(value, str)])


def shown_preview(spec, preview: Preview, personal: Personal | None = None) -> Preview:
    """The preview as its requester may see it: the changes, emails, summary and result masked."""
    personal = personal or preview_personal(spec, preview.params)
    # The changes first: the free texts are then masked wherever they repeat one of their values.
    changes = [personal.change(change) for change in preview.changes]
    return dataclasses.replace(preview, changes=changes, effects=[personal.text(line) for line in preview.effects],
                               summary=personal.text(preview.summary), result=personal.text(preview.result))


def suggested_reply(data: dict, spec) -> str:
    """The reply to the customer that a run suggests: its task's, once it succeeded on a ticket; else ""."""
    if spec is None or data.get("status") != "succeeded" or not data.get("ticket"):
        return ""
    return spec.suggested_reply(data.get("params") or {}, data.get("result") or "")


def masked_run(data: dict, spec) -> tuple[dict, Personal]:
    """A run's dict (runner.run_to_dict) as others may read it, and the masks used (they mask later texts too).
    It carries the run's suggested reply (None when there is none), masked like the run page shows it."""
    personal = Personal()
    shown = dict(data)
    shown["customer"] = personal.mask("email", data.get("customer")) or ""
    params = data.get("params")
    kinds = {param.name: param.kind for param in spec.params} if spec else {}
    if isinstance(params, dict):
        shown["params"] = {name: personal.param(name, value, kinds.get(name)) for name, value in params.items()}
    if data.get("record_key") is not None:  # the value of the task's record_param: masked as that parameter is
        record_param = getattr(spec, "record_param", "") if spec else ""
        shown["record_key"] = (personal.param(record_param, data["record_key"], kinds.get(record_param))
                               if record_param else personal.text(data["record_key"]))
    if isinstance(data.get("changes"), list):
        shown["changes"] = [personal.change(change) for change in data["changes"]]
    if isinstance(data.get("effects"), list):
        shown["effects"] = [personal.effect(effect) for effect in data["effects"]]
    for name in RUN_TEXTS:
        if isinstance(data.get(name), str):
            shown[name] = personal.text(data[name])
    shown["suggested_reply"] = personal.text(suggested_reply(data, spec)) or None
    return shown, personal


def masked_text(text: str) -> str:
    """Free text for a notification (a decision's reason): email addresses in it masked."""
    return Personal().text(text)
