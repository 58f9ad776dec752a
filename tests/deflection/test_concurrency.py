"""Events racing on the same tickets with real commits: the ticket rows lock, the rollups add up.

On both databases: PostgreSQL locks the ticket rows, SQLite makes each writer wait for the write lock.
"""
import threading

from sqlalchemy import func, select

from console.db import console_session, expect_writes
from console.deflection.models import OutcomeRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.tickets import add_ticket_event

THREADS = 12
ROUNDS = 8
KINDS = ("resolved", "reopened", "escalated", "resolved", "reopened", "task_run", "resolved", "escalated")


def test_concurrent_events_keep_every_ticket_once_in_the_rollup(isolated_app):
    app = isolated_app()
    barrier = threading.Barrier(THREADS)
    failures = []

    def worker(number: int):
        with app.app_context():
            expect_writes()
            session = console_session()
            barrier.wait(60)
            for step in range(ROUNDS):
                kind = KINDS[(number + step) % len(KINDS)]
                fields = {"escalation_class": "knowledge", "category": "orders"} if kind == "escalated" else (
                    {"task": "cancel_order", "run_status": "succeeded"} if kind == "task_run" else {})
                try:
                    add_ticket_event(session, f"RACE-{(number + step) % 3}", kind, actor="agent@example.com", **fields)
                    session.commit()
                except Exception as exc:  # noqa: BLE001 (any failure is what this test looks for)
                    session.rollback()
                    failures.append(f"{exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    with app.app_context():
        session = console_session()
        assert session.scalar(select(func.count(TicketEvent.id))) == THREADS * ROUNDS
        decided = session.scalar(select(func.count(Ticket.id)).where(Ticket.outcome != "open"))
        for model in (TicketRollup, OutcomeRollup):
            for grain in ("d", "w"):
                counted = session.scalar(select(func.sum(model.tickets)).where(model.grain == grain))
                assert counted == decided
        by_outcome = dict(session.execute(select(TicketRollup.outcome, func.sum(TicketRollup.tickets))
                                          .where(TicketRollup.grain == "d").group_by(TicketRollup.outcome)).all())
        direct = dict(session.execute(select(Ticket.outcome, func.count(Ticket.id)).where(Ticket.outcome != "open")
                                      .group_by(Ticket.outcome)).all())
        assert {k: v for k, v in by_outcome.items() if v} == direct
