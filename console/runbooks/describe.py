"""Runbooks as the JSON API describes them."""
from __future__ import annotations

from console.runbooks.loader import Runbook
from console.runbooks.render import RenderedRunbook


def describe_runbook(runbook: Runbook) -> dict:
    """The runbook's front matter and health, without its body."""
    return {
        "slug": runbook.slug,
        "title": runbook.title,
        "category": runbook.category,
        "tasks": list(runbook.tasks),
        "symptoms": list(runbook.symptoms),
        "owner": runbook.owner,
        "reviewed": runbook.reviewed.isoformat() if runbook.reviewed else None,
        "escalate_to": {"class": runbook.escalate_to.escalation_class, "team": runbook.escalate_to.team}
        if runbook.escalate_to else None,
        "error": runbook.error_summary or None,
    }


def describe_rendered(runbook: Runbook, rendered: RenderedRunbook) -> dict:
    """The runbook with its sanitised HTML, headings and checklist."""
    return {
        **describe_runbook(runbook),
        "html": rendered.html,
        "headings": [{"level": h.level, "anchor": h.anchor, "text": h.text} for h in rendered.headings],
        "checklist": [{"id": item.check_id, "text": item.text} for item in rendered.checklist],
    }
