"""The SaaS's tasks, tested with the author kit alone: no fixture or import of the demo shop or of tests/."""


def test_cancel_subscription_cancels_and_emails_the_owner(demo_records, run_task, target_row, outbox):
    run = run_task("cancel_subscription", subscription_id=1)
    assert run.status == "succeeded", run.error
    assert target_row("subscriptions", id=1)["status"] == "cancelled"
    assert outbox(customer_id=1) == [("ada@saas.example", "subscription_cancelled")]


def test_cancel_subscription_refuses_a_cancelled_one_and_writes_nothing(demo_records, run_task, outbox, count_rows):
    run = run_task("cancel_subscription", subscription_id=2)
    assert run.status == "refused" and "not active" in run.error
    assert count_rows("email_outbox") == 0


def test_cancel_subscription_can_be_undone(demo_records, run_task, undo, target_row):
    run = run_task("cancel_subscription", subscription_id=3)
    assert undo(run).status == "succeeded"
    assert target_row("subscriptions", id=3)["status"] == "active"


def test_cancel_subscription_preview_shows_the_change_and_the_email(demo_records, preview_task, outbox):
    preview = preview_task("cancel_subscription", subscription_id=1)
    [change] = preview.changes
    assert (change["table"], change["before"], change["after"]) == ("subscriptions", {"status": "active"},
                                                                    {"status": "cancelled"})
    assert preview.effects == ["email 'subscription_cancelled' to ada@saas.example"]
    assert outbox() == []


def test_change_plan_to_enterprise_waits_for_a_lead(demo_records, run_task, approve, target_row, outbox):
    run = run_task("change_plan", subscription_id=3, plan="enterprise")
    assert run.status == "pending_approval" and target_row("subscriptions", id=3)["plan"] == "starter"
    assert approve(run).status == "succeeded"
    assert target_row("subscriptions", id=3)["plan"] == "enterprise"
    assert outbox(to_address="bo@saas.example") == [("bo@saas.example", "plan_changed")]


def test_change_plan_refuses_the_same_plan_and_a_cancelled_subscription(demo_records, run_task):
    assert "already on the starter plan" in run_task("change_plan", subscription_id=3, plan="starter").error
    assert "not an active subscription" in run_task("change_plan", subscription_id=2, plan="team").error


def test_the_tasks_are_offered_on_subscriptions_only(app):
    registry = app.extensions["task_registry"]
    assert {spec.name: spec.offered_on for spec in registry} == {"cancel_subscription": "subscriptions",
                                                                 "change_plan": "subscriptions"}
