"""database_guard: a database failure in a run request is a TaskError, never a 500, and nothing stays written."""
import pytest
from sqlalchemy import func, select

from console.tasks.models import TaskRun
from console.tasks.runner import start_run

pytestmark = pytest.mark.usefixtures("fake_tasks")


def _failing_rate_check(monkeypatch, error):
    def fail(*args):
        raise error

    monkeypatch.setattr("console.tasks.runner.rate_limit_exceeded", fail)


def test_a_database_that_cannot_be_reached_is_a_503_not_a_500(attempt, request_for, shop_order, monkeypatch):
    from sqlalchemy.exc import OperationalError

    _failing_rate_check(monkeypatch, OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    error = attempt(start_run, request_for("fake_refund", order_id=shop_order().id, amount_cents=1))

    assert (error.status, error.code) == (503, "unavailable")
    assert error.message == "a database is unavailable (OperationalError); retry in a moment"


def test_a_value_the_database_cannot_store_is_bad_input_not_an_outage(attempt, request_for, shop_order, monkeypatch,
                                                                     console_db):
    from sqlalchemy.exc import DataError

    _failing_rate_check(monkeypatch, DataError("INSERT", {}, Exception("integer out of range")))
    error = attempt(start_run, request_for("fake_refund", order_id=shop_order().id, amount_cents=1))

    assert (error.status, error.code) == (400, "invalid")
    assert "cannot be stored by the database" in error.message
    assert console_db.scalar(select(func.count()).select_from(TaskRun)) == 0
