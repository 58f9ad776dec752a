"""The workers' sweep on a real Redis queue: a bulk whose job waits for a worker is queued once, however many
sweeps pass; a bulk whose job was lost is queued again, once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from console.bulk.jobs import sweep
from console.bulk.models import Bulk
from console.bulk.queue import bulk_queue
from console.bulk.service import request_bulk
from console.db import console_session, utcnow
from tests.bulk.processes import Console


@pytest.fixture
def console(test_databases, tmp_path):
    made = Console(test_databases, tmp_path)
    yield made
    made.stop_all()


def _silent_for_an_hour(console: Console, bulk_id: int) -> None:
    """No worker has claimed any of the bulk's items for an hour, far beyond BULK_STALL_SECONDS."""
    with console.app.app_context():
        console_session().execute(update(Bulk).where(Bulk.id == bulk_id)
                                  .values(heartbeat_at=utcnow() - timedelta(hours=1)))
        console_session().commit()


def test_a_waiting_bulk_is_queued_once_and_a_lost_job_is_queued_again_once(console):
    lead = console.person("lead")
    orders = console.paid_orders(3)
    with console.app.app_context():
        bulk_id = request_bulk("refund_order", [{"order_id": o, "amount_cents": 100} for o in orders], "T-SWEEP",
                               "charged twice in the incident", lead).id
    queue = bulk_queue(console.app)
    assert queue.count == 1  # queued when requested, and no worker runs yet
    _silent_for_an_hour(console, bulk_id)
    assert [sweep(console.app) for _ in range(3)] == [[], [], []]
    assert queue.count == 1

    queue.empty()  # the job is lost (a worker took it and died before claiming an item)
    assert sweep(console.app) == [bulk_id]
    assert sweep(console.app) == []
    _silent_for_an_hour(console, bulk_id)
    assert sweep(console.app) == []  # its new job still waits
    assert queue.count == 1

    console.start_worker()  # which sweeps once as it starts, and finds the job waiting
    assert console.wait_for(bulk_id, timeout=60) == ("finished", 3)
    assert queue.count == 0
    # RQ logs each job it takes: "<queue name>: bulk <id> (<job id>)".
    assert (console.folder / "worker0.log").read_text().count(f"{console.queue_name}: bulk {bulk_id} (") == 1
