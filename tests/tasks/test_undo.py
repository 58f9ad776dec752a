"""Undo: an audited run linked to the original, refused when the rows changed since."""
import pytest
from sqlalchemy import select, update

from admin_tasks.shop_schema import Customer, Order
from console.deflection.models import Ticket, TicketEvent
from console.tasks.runner import preview_undo, start_run, undo_run, undo_status
from tests.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("fake_tasks")


@pytest.fixture
def unlocked(within, request_for, target_db):
    """A locked customer (5 failed sign-ins) unlocked by an agent with fake_unlock."""
    customer = CustomerFactory(locked=True)
    run = within(start_run, request_for("fake_unlock", email=customer.email))
    assert run.status == "succeeded"
    return run, customer


def _customer(target_db, customer):
    target_db.expire_all()
    row = target_db.get(Customer, customer.id)
    return row.status, row.failed_login_count


def test_undo_restores_the_rows_and_is_an_audited_linked_run(within, unlocked, staff, target_db, fresh, audit_for,
                                                             console_db):
    run, customer = unlocked
    lead = staff("lead")

    undo = within(undo_run, run.id, lead, "T-200", "unlocked the wrong account")

    assert _customer(target_db, customer) == ("locked", 5)
    assert (undo.status, undo.task, undo.undo_of, undo.actor, undo.ticket) == (
        "succeeded", "fake_unlock", run.id, lead.email, "T-200")
    assert undo.result == f"Restored 1 row changed by run {run.id}"
    assert undo.changes_data == [{"table": "customers", "key": customer.id,
                                  "before": {"status": "active", "failed_login_count": 0},
                                  "after": {"status": "locked", "failed_login_count": 5}}]
    assert fresh(run).undone_by == undo.id
    assert [a for a, *_ in audit_for(undo.id)] == ["task.intent", "task.outcome"]
    assert audit_for(undo.id)[0][3]["undo_of"] == run.id
    ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "T-200"))
    assert console_db.scalar(select(TicketEvent.run_id).where(TicketEvent.ticket_id == ticket.id)) == undo.id


def test_the_undo_defaults_to_the_original_ticket(within, unlocked, staff):
    run, _customer = unlocked

    assert within(undo_run, run.id, staff("lead"), None, "mistake").ticket == run.ticket


def test_a_run_is_undone_once(within, attempt, unlocked, staff):
    run, _customer = unlocked
    undo = within(undo_run, run.id, staff("lead"), None, "mistake")

    again = attempt(undo_run, run.id, staff("lead"), None, "mistake")
    of_undo = attempt(undo_run, undo.id, staff("lead"), None, "undo the undo")

    assert (again.status, again.message) == (409, f"run {run.id} was already undone (run {undo.id})")
    assert of_undo.status == 409 and "itself an undo" in of_undo.message


def test_undo_is_refused_when_the_rows_changed_since(within, attempt, unlocked, staff, target_db, fresh):
    run, customer = unlocked
    target_db.execute(update(Customer).where(Customer.id == customer.id).values(failed_login_count=2))

    error = attempt(undo_run, run.id, staff("lead"), None, "mistake")

    assert (error.status, error.code) == (422, "refused")
    assert error.message == (f"customer {customer.id} changed since the run: failed_login_count is now 2, "
                             f"run {run.id} set it to 0")
    assert error.run.status == "refused" and error.run.undo_of == run.id
    assert _customer(target_db, customer) == ("active", 2)
    assert fresh(run).undone_by is None  # a refused undo does not use up the undo
    target_db.execute(update(Customer).where(Customer.id == customer.id).values(failed_login_count=0))
    assert within(undo_run, run.id, staff("lead"), None, "mistake").status == "succeeded"


def test_an_agent_may_not_undo(attempt, unlocked, staff):
    run, _customer = unlocked

    error = attempt(undo_run, run.id, staff("agent", "other"), None, "mistake")

    assert (error.status, error.code) == (403, "forbidden")


def test_undo_needs_a_reason_and_a_valid_ticket(attempt, unlocked, staff):
    run, _customer = unlocked

    error = attempt(undo_run, run.id, staff("lead"), "T\x01", "")

    assert error.status == 400 and set(error.fields) == {"ticket", "reason"}


def test_a_task_without_undo_says_why(within, attempt, request_for, shop_order, staff):
    run = within(start_run, request_for("fake_refund", order_id=shop_order().id, amount_cents=5))

    error = attempt(undo_run, run.id, staff("lead"), None, "mistake")

    assert (error.status, error.code, error.run) == (422, "refused", None)
    assert error.message == "fake_refund cannot be undone: money has left"
    assert within(undo_status, run) == (False, "fake_refund cannot be undone: money has left")


def test_only_a_succeeded_run_can_be_undone(within, attempt, request_for, staff):
    refused = attempt(start_run, request_for("fake_unlock", email="nobody@example.org")).run

    error = attempt(undo_run, refused.id, staff("lead"), None, "mistake")

    assert error.status == 409 and "only a succeeded run can be undone" in error.message
    assert within(undo_status, refused)[0] is False


def test_undo_status_of_an_undoable_run(within, unlocked, staff, fresh):
    run, _customer = unlocked

    assert within(undo_status, run) == (True, "")
    undo = within(undo_run, run.id, staff("lead"), None, "mistake")
    assert within(undo_status, fresh(run)) == (False, f"already undone by run {undo.id}")
    assert within(undo_status, undo)[1].startswith("this run is the undo of run")


def test_a_custom_undo_gets_the_past_run(within, attempt, request_for, staff, target_db):
    customer = CustomerFactory(locked=True)
    run = within(start_run, request_for("fake_unlock_custom", email=customer.email))

    undo = within(undo_run, run.id, staff("lead"), None, "mistake")

    assert undo.result == f"Locked {customer.email} again (undo of run {run.id})"
    assert _customer(target_db, customer) == ("locked", 5)


def test_a_custom_undo_can_refuse(within, attempt, request_for, staff, target_db):
    customer = CustomerFactory(locked=True)
    run = within(start_run, request_for("fake_unlock_custom", email=customer.email))
    target_db.execute(update(Customer).where(Customer.id == customer.id).values(status="disabled"))

    error = attempt(undo_run, run.id, staff("lead"), None, "mistake")

    assert error.message == f"customer {customer.email} is disabled now" and error.run.status == "refused"


def test_preview_undo_shows_the_restore_and_writes_nothing(within, unlocked, staff, counts, target_db):
    run, customer = unlocked
    before = counts()

    shown = within(preview_undo, run.id, staff("lead"))

    assert shown.changes[0]["after"] == {"status": "locked", "failed_login_count": 5}
    assert shown.title == f"Undo run {run.id}" and not shown.needs_approval
    assert counts() == before and _customer(target_db, customer) == ("active", 0)


def test_generic_undo_restores_datetimes(within, request_for, shop_order, staff, fresh):
    order = shop_order(status="paid")
    changed_at = order.status_changed_at
    run = within(start_run, request_for("fake_set_status", order_id=order.id, status="processing"))

    within(undo_run, run.id, staff("lead"), None, "wrong order")

    restored = fresh(order)
    assert (restored.status, restored.status_changed_at) == ("paid", changed_at)
    assert isinstance(restored.status_changed_at, type(changed_at))
    assert fresh(order).id == order.id and Order.__tablename__ == "orders"
