"""The outcome rules of console.deflection.outcome, one rule per test."""
from datetime import timedelta

from console.deflection.outcome import derive_facts, derive_outcome
from tests.deflection.conftest import T0, story

RUN_OK = ("task_run", {"task": "unlock_account", "run_id": 1, "run_status": "succeeded"})
RESOLVED = ("resolved", {"category": "account"})
ESCALATED = ("escalated", {"escalation_class": "small_change", "category": "orders", "missing_tool": "a split task",
                           "assignee": "dev@example.com"})


def test_a_ticket_without_a_decision_is_open():
    assert derive_outcome(story()) == "open"
    assert derive_outcome(story(("runbook_viewed", {"runbook": "cannot-log-in"}), RUN_OK)) == "open"


def test_resolved_after_a_succeeded_run_is_deflected_by_that_task():
    facts = derive_facts(story(("runbook_viewed", {"runbook": "cannot-log-in"}), RUN_OK, RESOLVED))
    assert (facts.outcome, facts.task, facts.category) == ("deflected_by_task", "unlock_account", "account")
    assert facts.closed_at == T0 + timedelta(minutes=20)


def test_a_refused_run_does_not_deflect_but_the_runbook_does():
    refused = ("task_run", {"task": "unlock_account", "run_id": 2, "run_status": "refused"})
    assert derive_outcome(story(("runbook_viewed", {"runbook": "cannot-log-in"}), refused, RESOLVED)) \
        == "deflected_by_runbook"
    assert derive_outcome(story(refused, RESOLVED)) == "resolved"


def test_any_escalation_wins_even_after_a_resolution():
    facts = derive_facts(story(RUN_OK, RESOLVED, ESCALATED))
    assert facts.outcome == "escalated"
    assert facts.closed_at == T0 + timedelta(minutes=20)  # the escalation, not the resolution


def test_an_escalation_after_a_succeeded_run_is_a_false_deflection_of_that_task():
    facts = derive_facts(story(RUN_OK, RESOLVED, ("reopened", {}), ESCALATED))
    assert (facts.outcome, facts.false_deflection, facts.task) == ("escalated", True, "unlock_account")
    plain = derive_facts(story(("task_run", {"task": "cancel_order", "run_id": 3, "run_status": "failed"}), ESCALATED))
    assert (plain.false_deflection, plain.task) == (False, "cancel_order")


def test_a_reopened_ticket_is_open_again_and_no_longer_deflected():
    assert derive_outcome(story(RUN_OK, RESOLVED, "reopened")) == "open"
    # Resolved again with nothing new: the old run did not settle it, so it is not deflected.
    assert derive_outcome(story(RUN_OK, RESOLVED, "reopened", RESOLVED)) == "resolved"
    again = ("task_run", {"task": "send_password_reset", "run_id": 9, "run_status": "succeeded"})
    facts = derive_facts(story(RUN_OK, RESOLVED, "reopened", again, RESOLVED))
    assert (facts.outcome, facts.task) == ("deflected_by_task", "send_password_reset")


def test_an_undone_run_no_longer_deflects():
    undo = ("task_run", {"task": "unlock_account", "run_id": 2, "run_status": "succeeded", "undo_of": 1})
    assert derive_outcome(story(RUN_OK, undo, RESOLVED)) == "resolved"
    failed_undo = ("task_run", {"task": "unlock_account", "run_id": 2, "run_status": "refused", "undo_of": 1})
    assert derive_outcome(story(RUN_OK, failed_undo, RESOLVED)) == "deflected_by_task"


def test_the_developer_closes_an_escalation_by_resolving_it_and_a_new_one_reopens_it():
    closed = derive_facts(story(ESCALATED, ("dev_time", {"minutes": 30}), ("dev_time", {"minutes": 15}), RESOLVED))
    assert (closed.outcome, closed.dev_minutes, closed.assignee) == ("escalated", 45, "dev@example.com")
    assert closed.escalation_closed_at is not None
    again = derive_facts(story(ESCALATED, RESOLVED, ESCALATED))
    assert again.escalation_closed_at is None
    assert again.closed_at == T0  # the outcome was reached at the first escalation


def test_the_latest_escalation_carries_the_class_and_missing_tool():
    later = ("escalated", {"escalation_class": "specialist", "category": "payments", "missing_tool": ""})
    facts = derive_facts(story(ESCALATED, later))
    assert (facts.escalation_class, facts.category, facts.missing_tool) == ("specialist", "payments", "")
