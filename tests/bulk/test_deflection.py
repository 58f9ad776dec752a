"""A bulk on a ticket is one deflection on that ticket, however many items it has."""
from __future__ import annotations

from sqlalchemy import select

from console.deflection.models import Ticket, TicketEvent


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
