"""The runner: every check in order, the preview, the audited execution and its failures."""
import pytest
from sqlalchemy import select

from admin_tasks.shop_schema import Customer, Order, OutboxEmail, Refund
from console.audit.chain import AuditUnavailable
from console.deflection.models import Ticket, TicketEvent
from console.tasks.runner import preview, run_history, run_to_dict, start_run
from console.tasks.policy import Decision
from tests.factories import SESSIONS, CustomerFactory
from tests.tasks.fake_tasks import REASON, TICKET

pytestmark = pytest.mark.usefixtures("fake_tasks")
CONTRACT_KEYS = {"id", "task", "status", "ticket", "reason", "actor", "params", "changes", "result", "error",
                 "created_at", "approved_by"}


def test_a_run_changes_the_target_and_is_audited_and_linked(within, request_for, shop_order, target_db,
                                                            console_db, audit_for):
    order = shop_order()
    request = request_for("fake_refund", order_id=str(order.id), amount_cents="3000")

    run = within(start_run, request)

    assert run.status == "succeeded" and run.result == f"Refunded 3000 cents on order {order.id}"
    target_db.expire_all()
    assert target_db.get(Order, order.id).refunded_cents == 3000
    assert target_db.scalars(select(Refund.amount_cents).where(Refund.order_id == order.id)).all() == [3000]
    email = target_db.scalars(select(OutboxEmail).where(OutboxEmail.order_id == order.id)).one()
    assert email.template == "refund_issued"
    assert (run.actor, run.ticket, run.reason, run.source) == (request.actor.email, TICKET, REASON, "api")
    assert run.params_data == {"order_id": order.id, "amount_cents": 3000}
    assert run.order_id == order.id and run.customer == email.to_address  # found from the order
    [order_change, refund_change] = run.changes_data
    assert order_change["before"]["refunded_cents"] == 0 and order_change["after"]["refunded_cents"] == 3000
    assert refund_change["table"] == "refunds" and refund_change["key"] is not None
    assert [(a, o) for a, o, _actor, _d in audit_for(run.id)] == [("task.intent", "interrupted"),
                                                                 ("task.outcome", "succeeded")]
    outcome = audit_for(run.id)[1][3]
    assert outcome["changes"] == run.changes_data and outcome["effects"][0]["template"] == "refund_issued"
    ticket = console_db.scalar(select(Ticket).where(Ticket.ref == TICKET))
    event = console_db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
    assert (event.kind, event.task, event.run_id, event.run_status) == ("task_run", "fake_refund", run.id,
                                                                         "succeeded")


def test_run_to_dict_has_the_contract_keys(within, request_for, shop_order):
    run = within(start_run, request_for("fake_refund", order_id=shop_order().id, amount_cents=10))

    body = within(run_to_dict, run)

    assert CONTRACT_KEYS <= set(body)
    assert body["status"] == "succeeded" and body["approved_by"] is None
    assert body["params"]["amount_cents"] == 10 and isinstance(body["changes"], list)
    assert body["created_at"].startswith(str(run.created_at.year))


def test_a_preview_shows_the_change_and_writes_nothing_anywhere(within, request_for, shop_order, counts, fresh):
    order = shop_order()
    before = counts()

    shown = within(preview, request_for("fake_refund", order_id=order.id, amount_cents=2500))

    assert counts() == before
    assert fresh(order).refunded_cents == 0
    assert shown.changes[0] == {"table": "orders", "key": order.id,
                                "before": {"refunded_cents": 0, "updated_at": order.updated_at.isoformat()},
                                "after": {"refunded_cents": 2500, "updated_at": shown.changes[0]["after"]["updated_at"]}}
    assert shown.changes[1]["table"] == "refunds" and shown.changes[1]["key"] is None
    assert shown.effects == [f"email 'refund_issued' to {_email(order)}"]
    assert shown.risk == "medium" and not shown.needs_approval and len(shown.preview_hash) == 64
    assert shown.summary.startswith(f"Fake refund: change the refunded amount of order {order.id}; "
                                    "add a new refund; send email")
    assert "params" not in shown.to_dict()


def _email(order):
    return SESSIONS["target"].get(Customer, order.customer_id).email


def test_the_same_preview_hashes_the_same_later(within, request_for, shop_order):
    order = shop_order()
    request = request_for("fake_refund", order_id=order.id, amount_cents=2500)

    assert within(preview, request).preview_hash == within(preview, request).preview_hash


def test_an_unknown_or_disabled_task_is_a_404(attempt, request_for, app, monkeypatch):
    assert attempt(start_run, request_for("no_such_task")).status == 404
    monkeypatch.setattr(app.extensions["task_registry"], "disabled", frozenset({"fake_unlock"}))
    error = attempt(preview, request_for("fake_unlock", email="a@example.org"))
    assert (error.status, error.code) == (404, "not_found")


@pytest.mark.parametrize("role, task", [("product_owner", "fake_unlock"), ("developer", "fake_unlock"),
                                        ("agent", "fake_lead_only")])
def test_a_role_that_may_not_run_the_task_is_a_403(attempt, request_for, role, task, counts):
    before = counts()

    error = attempt(start_run, request_for(task, as_role=role, ticket="", email="x"))

    assert (error.status, error.code) == (403, "forbidden")  # permission comes before validation
    assert counts() == before


def test_a_high_risk_needs_the_request_permission(attempt, request_for, shop_order, monkeypatch):
    from console import permissions

    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, "agent", frozenset({permissions.RUN_TASKS}))
    error = attempt(start_run, request_for("fake_refund", order_id=shop_order().id, amount_cents=20000))

    assert error.status == 403 and "may not request high-risk runs of fake_refund" in error.message


def test_ticket_reason_and_params_are_all_named_in_one_400(attempt, request_for, counts):
    before = counts()

    error = attempt(start_run, request_for("fake_refund", ticket="  ", reason="", order_id="abc"))

    assert (error.status, error.code) == (400, "invalid")
    assert error.fields == {"ticket": "a ticket reference is required", "reason": "a reason is required",
                            "order_id": "Order number must be a whole number",
                            "amount_cents": "Amount is required"}
    assert counts() == before


@pytest.mark.parametrize("reason, message", [
    ("x" * 2001, "at most 2000 characters"),
    ("bell\x07", "no other control characters"),
    (42, "must be text"),
])
def test_the_reason_rule(attempt, request_for, reason, message):
    error = attempt(preview, request_for("fake_unlock", reason=reason, email="a@example.org"))

    assert error.status == 400 and message in error.fields["reason"]


def test_a_reason_may_be_a_short_paragraph(within, request_for, target_db):
    CustomerFactory(email="para@example.org", locked=True)

    run = within(start_run, request_for("fake_unlock", reason=" line one\r\nline two\tend ", email="para@example.org"))

    assert run.reason == "line one\nline two\tend"


def test_a_ticket_with_a_newline_is_refused(attempt, request_for):
    error = attempt(preview, request_for("fake_unlock", ticket="T-1\nT-2", email="a@example.org"))

    assert error.fields == {"ticket": "a ticket reference cannot contain control characters or newlines"}


def test_a_refusal_is_a_422_with_a_recorded_refused_run_and_nothing_changed(attempt, request_for, shop_order,
                                                                           fresh, audit_for, counts, console_db):
    order = shop_order(total_cents=1000)
    before = counts()

    error = attempt(start_run, request_for("fake_refund", order_id=order.id, amount_cents=1500))

    assert (error.status, error.code) == (422, "refused")
    assert error.message == f"order {order.id} has only 1000 cents left to refund"
    run = error.run
    assert run.status == "refused" and run.error == error.message and run.changes_data == []
    assert fresh(order).refunded_cents == 0
    after = counts()
    assert (after["Refund"], after["OutboxEmail"]) == (before["Refund"], before["OutboxEmail"])
    assert after["TaskRun"] == before["TaskRun"] + 1
    [(action, outcome, _actor, details)] = audit_for(run.id)
    assert (action, outcome, details["stage"], details["error"]) == ("task.outcome", "refused", "preview",
                                                                     error.message)
    assert console_db.scalar(select(TicketEvent.run_status).where(TicketEvent.run_id == run.id)) == "refused"


def test_a_preview_refusal_is_a_422_with_one_refused_run(attempt, request_for, counts, audit_for):
    before = counts()

    error = attempt(preview, request_for("fake_unlock", email="nobody@example.org"))

    assert (error.status, error.code, error.run.status) == (422, "refused", "refused")
    assert error.message == error.run.error == "no customer with email nobody@example.org"
    after = counts()
    assert (after["TaskRun"], after["AuditEntry"], after["TicketEvent"]) == (
        before["TaskRun"] + 1, before["AuditEntry"] + 1, before["TicketEvent"] + 1)
    assert (after["Refund"], after["OutboxEmail"]) == (before["Refund"], before["OutboxEmail"])
    [(action, outcome, _actor, details)] = audit_for(error.run.id)
    assert (action, outcome, details["stage"]) == ("task.outcome", "refused", "preview")


def test_a_refused_preview_asked_again_with_its_key_replays_the_one_run(attempt, request_for, counts):
    first = attempt(preview, request_for("fake_unlock", email="nobody@example.org", key="form-1"))
    before = counts()

    again = attempt(preview, request_for("fake_unlock", email="nobody@example.org", key="form-1"))

    assert (again.status, again.code, again.run.id) == (422, "refused", first.run.id)
    assert counts() == before


def test_a_database_error_rolls_back_and_fails_the_run_without_a_500(attempt, request_for, shop_order, fresh,
                                                                      audit_for):
    order = shop_order()

    error = attempt(start_run, request_for("fake_broken_write", order_id=order.id))

    assert (error.status, error.code) == (422, "failed")
    assert error.message.startswith("database error (IntegrityError)")
    assert error.run.status == "failed" and error.run.error == error.message
    assert fresh(order).refunded_cents == 0  # the update before the error was rolled back
    assert audit_for(error.run.id)[-1][:2] == ("task.outcome", "failed")


def test_a_crashing_task_fails_the_run_and_changes_nothing(attempt, request_for, shop_order, fresh):
    order = shop_order()

    error = attempt(start_run, request_for("fake_crash", order_id=order.id))

    assert error.code == "failed" and error.message == "the task failed (RuntimeError: a bug in the task)"
    assert fresh(order).refunded_cents == 0


def test_secrets_are_redacted_in_the_run_and_the_audit(within, request_for, audit_for):
    CustomerFactory(email="secret@example.org")

    run = within(start_run, request_for("fake_secret", email="secret@example.org", token="hunter2-hunter2"))

    assert run.params_data == {"email": "secret@example.org", "token": "[redacted]"}
    assert run.result == "token of 15 characters accepted"
    for _action, _outcome, _actor, details in audit_for(run.id):
        assert "hunter2" not in str(details)
    assert within(run_to_dict, run)["params"]["token"] == "[redacted]"


def test_redact_before_keeps_erased_values_out_of_the_record(within, request_for, audit_for):
    CustomerFactory(email="erase@example.org", name="Erin Erasure", phone="+49 1234567")

    shown = within(preview, request_for("fake_erase", email="erase@example.org"))
    run = within(start_run, request_for("fake_erase", email="erase@example.org"))

    assert shown.changes[0]["before"]["name"] == "Erin Erasure"  # the live preview shows them
    assert run.changes_data[0]["before"] == {"name": "[redacted]", "phone": "[redacted]"}
    assert run.changes_data[0]["after"] == {"name": "erased", "phone": None}
    assert "Erin" not in run.changes and all("Erin" not in str(d) for *_, d in audit_for(run.id))


def test_amounts_above_the_role_cap_wait_for_approval(within, request_for, shop_order, fresh, app, monkeypatch):
    monkeypatch.setitem(app.config, "AMOUNT_CAPS", {"agent": 500})
    order = shop_order()

    waiting = within(start_run, request_for("fake_refund", order_id=order.id, amount_cents=600))
    done = within(start_run, request_for("fake_refund", as_role="lead", order_id=order.id, amount_cents=600))

    assert waiting.status == "pending_approval" and waiting.risk == "medium"
    assert "above the Agent limit of EUR 5.00" in waiting.approval_reasons
    assert done.status == "succeeded"  # no cap for leads
    assert fresh(order).refunded_cents == 600


def test_a_high_risk_run_waits_for_approval_with_its_preview_hash(within, request_for, shop_order, fresh,
                                                                  audit_for, counts, console_db):
    order = shop_order(total_cents=50000)
    request = request_for("fake_refund", order_id=order.id, amount_cents=20000)
    shown = within(preview, request)
    before = counts()

    run = within(start_run, request)

    assert shown.needs_approval and shown.risk == "high"
    assert run.status == "pending_approval" and run.risk == "high"
    assert run.preview_hash == shown.preview_hash
    assert run.changes_data[0]["after"]["refunded_cents"] == 20000  # the preview, for the approver
    assert fresh(order).refunded_cents == 0
    assert counts()["Refund"] == before["Refund"] and counts()["OutboxEmail"] == before["OutboxEmail"]
    [(action, outcome, _actor, details)] = audit_for(run.id)
    assert (action, outcome, details["preview_hash"]) == ("task.request_approval", "pending_approval",
                                                          run.preview_hash)
    assert console_db.scalar(select(TicketEvent.run_status).where(TicketEvent.run_id == run.id)) == \
        "pending_approval"


def test_a_refusal_comes_before_approval(attempt, request_for, shop_order):
    error = attempt(start_run, request_for("fake_refund", order_id=shop_order(total_cents=15000).id,
                                           amount_cents=20000))

    assert error.code == "refused" and error.run.status == "refused"


def test_a_run_that_must_wait_cannot_keep_a_secret(attempt, request_for, monkeypatch):
    monkeypatch.setattr("console.tasks.runner.decide", lambda *args: Decision("high", True, ["forced"]))
    CustomerFactory(email="s@example.org")

    error = attempt(start_run, request_for("fake_secret", email="s@example.org", token="abc"))

    assert error.status == 422 and "secrets are never stored" in error.message and error.run is None


def test_the_audit_being_unavailable_stops_the_run(attempt, request_for, shop_order, fresh, counts, monkeypatch):
    order = shop_order()
    before = counts()

    def broken(*args, **kwargs):
        raise AuditUnavailable("the audit trail could not be written: OperationalError")

    monkeypatch.setattr("console.tasks.execution.record_event", broken)
    error = attempt(start_run, request_for("fake_refund", order_id=order.id, amount_cents=100))

    assert (error.status, error.code) == (503, "audit_unavailable")
    assert "nothing was run" in error.message
    assert fresh(order).refunded_cents == 0
    assert counts() == before


def test_an_outcome_that_cannot_be_written_leaves_the_run_interrupted(attempt, request_for, shop_order, fresh,
                                                                      monkeypatch, console_db):
    from console.tasks import execution
    from console.tasks.models import TaskRun

    order = shop_order()
    real = execution.record_event

    def outcome_fails(session, **fields):
        if fields["action"] == "task.outcome":
            raise AuditUnavailable("the audit trail could not be written: OperationalError")
        return real(session, **fields)

    monkeypatch.setattr(execution, "record_event", outcome_fails)
    error = attempt(start_run, request_for("fake_refund", order_id=order.id, amount_cents=100))

    assert error.status == 503 and "stays interrupted until it is reconciled" in error.message
    assert fresh(order).refunded_cents == 100  # the change itself committed
    console_db.expire_all()
    run = console_db.scalars(select(TaskRun).order_by(TaskRun.id.desc()).limit(1)).one()
    assert run.status == "interrupted" and run.started_at is not None


def test_a_confirmed_preview_that_went_stale_is_a_409(within, attempt, request_for, shop_order, target_db, counts):
    order = shop_order()
    seen = within(preview, request_for("fake_refund", order_id=order.id, amount_cents=100))
    target_db.execute(Order.__table__.update().where(Order.id == order.id).values(refunded_cents=50))
    before = counts()

    error = attempt(start_run, request_for("fake_refund", order_id=order.id, amount_cents=100,
                                           expected_preview_hash=seen.preview_hash))

    assert (error.status, error.message) == (409, "the data changed since your preview; preview again")
    assert counts() == before


def test_a_confirmed_preview_that_still_holds_runs(within, request_for, shop_order):
    order = shop_order()
    seen = within(preview, request_for("fake_refund", order_id=order.id, amount_cents=100))

    run = within(start_run, request_for("fake_refund", order_id=order.id, amount_cents=100,
                                        expected_preview_hash=seen.preview_hash))

    assert run.status == "succeeded"


def test_rate_limits_are_per_actor_and_task(within, attempt, request_for, staff, app, monkeypatch):
    monkeypatch.setitem(app.config, "TASK_RATE_LIMITS", {"fake_unlock": "2/hour"})
    agent, other = staff("agent"), staff("agent", "other")

    for _ in range(2):
        attempt(start_run, request_for("fake_unlock", actor=agent, email="none@example.org"))
    error = attempt(start_run, request_for("fake_unlock", actor=agent, email="none@example.org"))
    allowed = attempt(start_run, request_for("fake_unlock", actor=other, email="none@example.org"))

    assert (error.status, error.code) == (429, "rate_limited")
    assert error.message == "fake_unlock may be run at most 2/hour per person; try again later"
    assert allowed.code == "refused"  # the other agent is not limited


@pytest.mark.parametrize("path", ["runs", "refused at preview", "needs approval"])
def test_a_run_past_the_limit_that_slipped_by_the_first_check_is_stopped_when_written(
        within, attempt, request_for, staff, shop_order, app, monkeypatch, counts, fresh, path):
    # Racing requests all pass the check before the preview; the one made when the run's row is written stops
    # the extra ones (tests/tasks/test_concurrency.py races them for real). Here the first check is skipped.
    monkeypatch.setitem(app.config, "TASK_RATE_LIMITS", {"fake_refund": "1/hour"})
    order, agent = shop_order(), staff("agent")
    within(start_run, request_for("fake_refund", actor=agent, order_id=order.id, amount_cents=100))
    monkeypatch.setattr("console.tasks.runner.rate_limit_exceeded", lambda spec, actor: None)
    before, refunded = counts(), fresh(order).refunded_cents
    amount = {"runs": 100, "refused at preview": 10**6, "needs approval": 20000}[path]

    error = attempt(start_run, request_for("fake_refund", actor=agent, key=f"k-{path}", order_id=order.id,
                                           amount_cents=amount))

    assert (error.status, error.code, error.run) == (429, "rate_limited", None)
    assert counts() == before and fresh(order).refunded_cents == refunded  # no run, no change, no audit entry
    # The Idempotency-Key was released with the refusal: the same request may come back later.
    monkeypatch.setitem(app.config, "TASK_RATE_LIMITS", {})
    assert within(start_run, request_for("fake_refund", actor=agent, key=f"k-{path}", order_id=order.id,
                                         amount_cents=100)).status == "succeeded"


def test_run_history_filters(within, request_for, shop_order, staff):
    order = shop_order()
    first = within(start_run, request_for("fake_refund", order_id=order.id, amount_cents=1))
    second = within(start_run, request_for("fake_refund", ticket="T-OTHER", order_id=order.id, amount_cents=1))

    assert [r.id for r in within(run_history, order_id=order.id)] == [second.id, first.id]
    assert [r.id for r in within(run_history, ticket="T-OTHER")] == [second.id]
    assert [r.id for r in within(run_history, customer=first.customer, task="fake_refund")] == [second.id, first.id]
    assert within(run_history, task="fake_unlock", customer=first.customer) == []
