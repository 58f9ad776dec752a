"""Customer and order pages list the task runs and tickets the console holds about them."""
from __future__ import annotations

import pytest

from console.db import utcnow
from console.lookup import history

pytestmark = pytest.mark.skipif(history.task_run_model() is None or history.ticket_model() is None,
                                reason="the tasks or deflection domain is not in this build")


def _run(console_db, **fields):
    TaskRun = history.task_run_model()
    values = dict(task="unlock_account", status="succeeded", ticket="T-100", reason="asked", actor="a@example.com",
                  created_at=utcnow())
    values.update(fields)
    run = TaskRun(**values)
    console_db.add(run)
    console_db.flush()
    return run


def test_the_customer_page_lists_runs_and_tickets_about_the_customer(client, login_as, alice, console_db):
    customer, _ = alice
    _run(console_db, customer=customer.email, task="history_probe_mine")
    _run(console_db, customer="someone.else@example.com", task="history_probe_other")
    console_db.add(history.ticket_model()(ref="T-4242", customer=customer.email, category="login"))
    console_db.flush()
    login_as("agent")
    html = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "history_probe_mine" in html and "history_probe_other" not in html
    assert "T-4242" in html


def test_the_order_page_lists_runs_about_the_order(client, login_as, alice, console_db):
    customer, orders = alice
    _run(console_db, customer=customer.email, order_id=orders[0].id, task="history_probe_this_order")
    _run(console_db, customer=customer.email, order_id=orders[1].id, task="history_probe_other_order")
    login_as("agent")
    html = client.get(f"/admin/orders/{orders[0].id}").get_data(as_text=True)
    assert "history_probe_this_order" in html and "history_probe_other_order" not in html
