"""add_run_event: a task run's event written in Core statements, the same as add_ticket_event writes it."""
from __future__ import annotations

from sqlalchemy import event, func, select

from console.deflection.models import EventRollup, OutcomeRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.tickets import add_run_event, add_ticket_event, open_ticket

ACTOR = "agent@example.com"
RUNS = [{"task": "unlock_account", "run_id": 21, "run_status": "succeeded", "undo_of": None, "bulk_id": None},
        {"task": "refund_order", "run_id": 22, "run_status": "refused", "undo_of": None, "bulk_id": 9},
        {"task": "refund_order", "run_id": 23, "run_status": "pending_approval", "undo_of": None, "bulk_id": None},
        {"task": "refund_order", "run_id": 24, "run_status": "succeeded", "undo_of": None, "bulk_id": 9},
        {"task": "refund_order", "run_id": 25, "run_status": "succeeded", "undo_of": 24, "bulk_id": None}]
_IGNORED = {"id", "ticket_id", "created_at"}


def _ticket(session, ref: str) -> dict:
    ticket = session.scalar(select(Ticket).where(Ticket.ref == ref).execution_options(populate_existing=True))
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
    return {"ticket": {column.key: getattr(ticket, column.key) for column in Ticket.__table__.columns
                       if column.key not in _IGNORED | {"ref", "updated_at", "closed_at"}},
            "events": [{column.key: getattr(event, column.key) for column in TicketEvent.__table__.columns
                        if column.key not in _IGNORED} for event in events]}


def _rollups(session) -> dict:
    def sums(model, key, measure):
        return {tuple(row[:-1]): row[-1] for row in session.execute(select(*key, func.sum(measure)).group_by(*key))}

    return {"tickets": sums(TicketRollup, (TicketRollup.grain, TicketRollup.outcome, TicketRollup.task),
                            TicketRollup.tickets),
            "outcomes": sums(OutcomeRollup, (OutcomeRollup.grain, OutcomeRollup.outcome), OutcomeRollup.tickets),
            "events": sums(EventRollup, (EventRollup.grain, EventRollup.kind, EventRollup.subject, EventRollup.status),
                           EventRollup.events)}


def _doubled(rollups: dict) -> dict:
    return {name: {key: 2 * total for key, total in sums.items()} for name, sums in rollups.items()}


def test_a_run_event_is_the_one_add_ticket_event_writes(app, console_db):
    with app.app_context():
        for number, fields in enumerate(RUNS):
            customer = "Buyer@Example.com" if number == 1 else ""
            add_ticket_event(console_db, "T-ORM", "task_run", actor=ACTOR, customer=customer, **fields)
        add_ticket_event(console_db, "T-ORM", "resolved", actor=ACTOR)
        alone = _rollups(console_db)
        for number, fields in enumerate(RUNS):
            customer = "Buyer@Example.com" if number == 1 else ""
            add_run_event(console_db, "T-CORE", actor=ACTOR, customer=customer, **fields)
        add_ticket_event(console_db, "T-CORE", "resolved", actor=ACTOR)

        assert _ticket(console_db, "T-CORE") == _ticket(console_db, "T-ORM")
        assert _ticket(console_db, "T-CORE")["ticket"]["outcome"] == "deflected_by_task"
        assert _ticket(console_db, "T-CORE")["ticket"]["customer"] == "buyer@example.com"
        assert _rollups(console_db) == _doubled(alone)


def test_a_run_event_after_the_decision_moves_the_ticket_as_add_ticket_event_does(app, console_db):
    with app.app_context():
        for ref, add in (("T-ORM", lambda **f: add_ticket_event(console_db, "T-ORM", "task_run", actor=ACTOR, **f)),
                         ("T-CORE", lambda **f: add_run_event(console_db, "T-CORE", actor=ACTOR, **f))):
            add_ticket_event(console_db, ref, "runbook_viewed", actor=ACTOR, runbook="unlock")
            add_ticket_event(console_db, ref, "resolved", actor=ACTOR)
            add(task="unlock_account", run_id=31 if ref == "T-ORM" else 41, run_status="succeeded")
        assert _ticket(console_db, "T-CORE")["ticket"]["outcome"] == "deflected_by_task"
        assert {key: value for key, value in _ticket(console_db, "T-CORE").items() if key != "events"} == \
            {key: value for key, value in _ticket(console_db, "T-ORM").items() if key != "events"}
        totals = _rollups(console_db)
        assert all(total % 2 == 0 for sums in totals.values() for total in sums.values())


def test_a_ticket_the_session_holds_is_read_anew_and_keeps_its_category(app, console_db):
    with app.app_context():
        ticket = open_ticket(console_db, "T-HELD", actor=ACTOR)
        ticket.category = "accounts"
        console_db.flush()
        add_run_event(console_db, "T-HELD", actor=ACTOR, task="unlock_account", run_id=51, run_status="succeeded")
        assert ticket.task == "unlock_account"  # expired by the Core update, so read again
        assert ticket.category == "accounts"
        assert console_db.scalar(select(func.count()).select_from(TicketEvent)
                                 .where(TicketEvent.ticket_id == ticket.id)) == 1


def test_a_run_event_and_its_rollup_are_one_statement_on_postgresql(app, console_db):
    statements = []
    connection = console_db.connection()
    event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with app.app_context():
        add_run_event(console_db, "T-ONE", actor=ACTOR, **RUNS[0])
        add_run_event(console_db, "T-ONE", actor=ACTOR, **RUNS[0])  # on a ticket that exists

    writes = [s for s in statements if "INSERT INTO ticket_event" in s]
    both = [s for s in writes if "INSERT INTO ticket_events" in s and "INSERT INTO ticket_event_rollup" in s]
    assert len(both) == (2 if connection.dialect.name == "postgresql" else 0)
    assert len(writes) == (2 if both else 4)
    assert console_db.scalar(select(func.count()).select_from(TicketEvent)
                             .join(Ticket, Ticket.id == TicketEvent.ticket_id).where(Ticket.ref == "T-ONE")) == 2
    assert _rollups(console_db)["events"] == {("d", "task_run", "unlock_account", "succeeded"): 2,
                                              ("w", "task_run", "unlock_account", "succeeded"): 2}


def test_a_ticket_a_run_opens_belongs_to_the_team_of_the_runs_requester(app, console_db, make_user):
    night = make_user("agent", team="night-shift")
    teamless = make_user("agent", team="")
    with app.app_context():
        for ref, actor in (("T-NIGHT", night.email), ("T-TEAMLESS", teamless.email), ("T-GONE", "gone@example.com"),
                           ("T-NOBODY", "")):
            add_run_event(console_db, ref, actor=actor, **RUNS[0])
        console_db.expire_all()  # the users are in this session: read what the statements wrote
        teams = dict(console_db.execute(select(Ticket.ref, Ticket.team)).all())
    assert teams == {"T-NIGHT": "night-shift", "T-TEAMLESS": "support", "T-GONE": "support", "T-NOBODY": "support"}
