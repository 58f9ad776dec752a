"""Runbooks on tickets: counted views, ticks, and what became of the tickets."""
from __future__ import annotations

from console.deflection.tickets import add_ticket_event, find_ticket
from console.runbooks.tickets import outcomes_after_viewing, record_view, set_tick, ticked_items


def test_a_view_is_recorded_once_until_the_ticket_is_reopened(console_db):
    assert record_view(console_db, "T-1", "cannot-log-in", actor="a@example.com") is True
    assert record_view(console_db, "T-1", "cannot-log-in", actor="a@example.com") is False
    assert record_view(console_db, "T-1", "password-reset", actor="a@example.com") is True
    add_ticket_event(console_db, "T-1", "reopened")

    assert record_view(console_db, "T-1", "cannot-log-in", actor="a@example.com") is True
    assert find_ticket(console_db, "T-1").outcome == "open"


def test_ticks_keep_the_latest_state_per_item(console_db):
    set_tick(console_db, "T-2", "cannot-log-in", "cannot-log-in:a", True, actor="a@example.com")
    set_tick(console_db, "T-2", "cannot-log-in", "cannot-log-in:b", True, actor="a@example.com")
    set_tick(console_db, "T-2", "cannot-log-in", "cannot-log-in:a", False, actor="b@example.com")
    set_tick(console_db, "T-3", "cannot-log-in", "cannot-log-in:c", True, actor="a@example.com")

    assert ticked_items(console_db, "T-2", "cannot-log-in") == {"cannot-log-in:b"}
    assert ticked_items(console_db, "T-2", "other") == set()
    assert ticked_items(console_db, "T-404", "cannot-log-in") == set()


def test_outcomes_count_each_ticket_that_viewed_the_runbook_once(console_db):
    record_view(console_db, "T-1", "refund-request", actor="a@example.com")
    add_ticket_event(console_db, "T-1", "resolved")
    record_view(console_db, "T-2", "refund-request", actor="a@example.com")
    add_ticket_event(console_db, "T-2", "reopened")
    record_view(console_db, "T-2", "refund-request", actor="a@example.com")
    add_ticket_event(console_db, "T-2", "escalated", escalation_class="specialist")
    record_view(console_db, "T-3", "refund-request", actor="a@example.com")
    record_view(console_db, "T-4", "cancel-order", actor="a@example.com")

    outcomes = outcomes_after_viewing(console_db, "refund-request")

    assert (outcomes.tickets, outcomes.resolved, outcomes.deflected_by_runbook, outcomes.escalated, outcomes.open) \
        == (3, 1, 1, 1, 1)
    assert outcomes_after_viewing(console_db, "never-viewed").tickets == 0
