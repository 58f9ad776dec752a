"""A bulk on a ticket is one deflection on that ticket, however many items it has."""
from __future__ import annotations

from sqlalchemy import select, update

from console.bulk.models import BulkItem
from console.deflection.models import Ticket, TicketEvent
from console.tasks.models import TaskRun


def test_a_resolved_ticket_with_a_bulk_counts_as_one_deflection(client, api_token, locked_customers, work,
                                                                console_db):
    _, headers = api_token("agent")
    emails = locked_customers(3)
    bulk = client.post("/api/v1/tasks/unlock_account/bulk", headers=headers, json={
        "items": [{"email": e} for e in emails], "ticket": "T-DEFLECT", "reason": "bad deploy"}).get_json()["bulk"]
    work(bulk["id"])
    # Each item's event names its bulk (given by the batch writer), so tool health counts the items apart.
    assert console_db.scalars(select(TicketEvent.bulk_id).where(TicketEvent.kind == "task_run")).all() == \
        [bulk["id"]] * 3
    resolved = client.post("/api/v1/tickets/T-DEFLECT/outcome", headers=headers, json={"outcome": "resolved"})
    assert resolved.status_code == 200, resolved.get_json()
    ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "T-DEFLECT"))
    assert (ticket.outcome, ticket.task) == ("deflected_by_task", "unlock_account")
    _, po = api_token("product_owner")
    day = ticket.closed_at.date().isoformat()
    stats = client.get("/api/v1/stats/deflection", headers=po, query_string={"from": day, "to": day}).get_json()
    assert (stats["totals"]["tickets"], stats["totals"]["deflected"]) == (1, 1)


def _bulk(client, headers, emails, ticket) -> int:
    answer = client.post("/api/v1/tasks/unlock_account/bulk", headers=headers, json={
        "items": [{"email": e} for e in emails], "ticket": ticket, "reason": "bad deploy"})
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["bulk"]["id"]


def test_item_runs_name_their_bulk_and_a_single_run_with_a_look_alike_key_names_none(client, api_token,
                                                                                    locked_customers, work,
                                                                                    console_db):
    _, headers = api_token("agent")
    bulk_id = _bulk(client, headers, locked_customers(3), "T-ITEMS")
    work(bulk_id)
    items = console_db.execute(select(TaskRun.bulk_id, TaskRun.idempotency_key).where(TaskRun.ticket == "T-ITEMS")
                               .order_by(TaskRun.id)).all()
    assert items == [(bulk_id, f"bulk-{bulk_id}-{index}") for index in range(3)]
    # The key an item of this bulk would have, had it a fourth: the run is still a single run.
    single = client.post("/api/v1/tasks/unlock_account/runs", json={
        "params": {"email": locked_customers(1)[0]}, "ticket": "T-SINGLE", "reason": "one more"},
        headers={**headers, "Idempotency-Key": f"bulk-{bulk_id}-3"})
    assert single.status_code == 201, single.get_json()
    run = console_db.get(TaskRun, single.get_json()["run"]["id"])
    assert (run.idempotency_key, run.bulk_id) == (f"bulk-{bulk_id}-3", None)
    assert console_db.scalar(select(TicketEvent.bulk_id).where(TicketEvent.run_id == run.id)) is None


def test_an_item_run_by_the_runner_alone_names_its_bulk(client, api_token, locked_customers, work, console_db):
    _, headers = api_token("agent")
    bulk_id = _bulk(client, headers, locked_customers(2), "T-ALONE")
    # As if an earlier claim was lost: the items are taken over, and each runs through the runner on its own.
    console_db.execute(update(BulkItem).where(BulkItem.bulk_id == bulk_id).values(attempts=1))
    console_db.commit()
    work(bulk_id)
    runs = console_db.scalars(select(TaskRun).where(TaskRun.ticket == "T-ALONE")).all()
    assert [(run.status, run.bulk_id) for run in runs] == [("succeeded", bulk_id)] * 2
    events = console_db.scalars(select(TicketEvent.bulk_id).where(TicketEvent.run_id.in_([r.id for r in runs])))
    assert events.all() == [bulk_id] * 2
