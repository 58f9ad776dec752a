"""A ticket's task runs told once each: requested by, decided by, ran, outcome.

A run that waits for approval leaves two task_run events on its ticket (pending, then its end);
here they are one story. Who approved or rejected it comes from the audit trail, where the
decision is recorded (run.approve, run.reject, run.expire), read by the ticket's own index.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.audit.models import AuditEntry
from console.deflection.models import Ticket, TicketEvent

DECISIONS = {"run.approve": "approved", "run.reject": "rejected", "run.expire": "expired"}
WAITING = "pending_approval"


@dataclass
class RunStory:
    """One run on the ticket, from its request to its outcome."""

    run_id: int | None
    task: str
    requested_by: str
    requested_at: datetime
    status: str
    ended_at: datetime | None = None
    undo_of: int | None = None
    waited: bool = False  # it needed a second person's approval
    decision: str = ""  # approved, rejected or expired
    decided_by: str = ""
    decided_at: datetime | None = None
    first_event: int = 0  # the id of the run's first event: where the timeline tells it


def _decisions(session: Session, ticket: Ticket, run_ids: list[int]) -> dict[int, AuditEntry]:
    if not run_ids:
        return {}
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.ticket == ticket.ref, AuditEntry.subject_type == "task_run",
        AuditEntry.subject_id.in_([str(run_id) for run_id in run_ids]),
        AuditEntry.action.in_(list(DECISIONS))).order_by(AuditEntry.seq))
    return {int(entry.subject_id): entry for entry in entries}


def run_stories(session: Session, ticket: Ticket | None, events: list[TicketEvent]) -> list[RunStory]:
    """Each run on the ticket once, in the order they were requested."""
    stories: dict[int | str, RunStory] = {}
    for event in events:
        if event.kind != "task_run":
            continue
        key = event.run_id if event.run_id is not None else f"event-{event.id}"
        story = stories.get(key)
        if story is None:
            story = stories[key] = RunStory(run_id=event.run_id, task=event.task, requested_by=event.actor,
                                            requested_at=event.created_at, status=event.run_status,
                                            undo_of=event.undo_of, first_event=event.id)
        story.status = event.run_status
        if event.run_status == WAITING:
            story.waited = True
        else:
            story.ended_at = event.created_at
    if ticket is not None:
        found = _decisions(session, ticket, [s.run_id for s in stories.values() if s.waited and s.run_id])
        for story in stories.values():
            entry = found.get(story.run_id)
            if entry is not None:
                story.decision, story.decided_by, story.decided_at = (DECISIONS[entry.action], entry.actor,
                                                                      entry.created_at)
    return list(stories.values())


def story_to_dict(story: RunStory) -> dict:
    """The API's view of a run on its ticket."""
    def iso(value):
        return value.isoformat(timespec="seconds") + "Z" if value else None

    return {"run_id": story.run_id, "task": story.task, "status": story.status,
            "requested_by": story.requested_by, "requested_at": iso(story.requested_at),
            "approved_by": story.decided_by if story.decision == "approved" else None,
            "decision": story.decision or None, "decided_by": story.decided_by or None,
            "decided_at": iso(story.decided_at), "ended_at": iso(story.ended_at), "undo_of": story.undo_of}
