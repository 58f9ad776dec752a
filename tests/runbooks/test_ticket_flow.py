"""The issue's "done when": T-7, "can't log in", the runbook, its Unlock button, preview, confirm."""
from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select

from console.deflection.models import TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import CustomerFactory


def test_agent_unlocks_an_account_from_the_runbook_and_the_ticket_shows_both(client, login_as, console_db, target_db):
    customer = CustomerFactory(locked=True)
    target_db.flush()
    login_as("agent")
    with client.session_transaction() as session:
        session["ticket_ref"] = "T-7"

    results = client.get("/admin/runbooks/", query_string={"q": "can't log in"}).get_data(as_text=True)
    first = re.search(r'id="runbook-results">\s*<li class="mb-3">\s*<a class="h6" href="([^"]+)"', results).group(1)
    page = client.get(first, query_string={"email": customer.email}, headers={"Sec-Fetch-Site": "same-origin"}
                      ).get_data(as_text=True)  # a link followed on the search page
    unlock = html_lib.unescape(re.search(r'<a href="([^"]+)"[^>]*data-task="unlock_account"', page).group(1))
    form = client.get(unlock)
    form_html = form.get_data(as_text=True)

    assert form.status_code == 200
    assert f'value="{customer.email}"' in form_html and 'value="T-7"' in form_html
    reason = html_lib.unescape(re.search(r'<textarea id="reason"[^>]*>([^<]*)</textarea>', form_html).group(1))
    assert reason == "Customer locked out after failed sign-ins"  # the runbook suggests the reason

    preview = client.post(unlock.split("?")[0], data={
        "csrf_token": csrf_token_from(form_html), "action": "preview", "email": customer.email,
        "ticket": "T-7", "reason": reason,
    })
    preview_html = preview.get_data(as_text=True)
    assert preview.status_code == 200, preview_html[:2000]
    token = re.search(r'name="confirmation" value="([^"]+)"', preview_html).group(1)
    confirmed = client.post(unlock.split("?")[0], data={
        "csrf_token": csrf_token_from(preview_html), "action": "confirm", "confirmation": token,
    })

    assert confirmed.status_code == 303
    events = console_db.execute(
        select(TicketEvent.kind, TicketEvent.runbook, TicketEvent.task, TicketEvent.run_status)
        .where(TicketEvent.ticket.has(ref="T-7")).order_by(TicketEvent.id)).all()
    assert [tuple(event) for event in events] == [
        ("runbook_viewed", "cannot-log-in", "", ""), ("task_run", "", "unlock_account", "succeeded")]
    target_db.refresh(customer)
    assert customer.status == "active"
