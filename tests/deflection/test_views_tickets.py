"""The ticket pages through the browser: start, see, resolve, escalate, reopen, developer time."""
from datetime import date

import pytest
from sqlalchemy import select

from console.deflection.models import Ticket, TicketEvent


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def on_duty(app, make_user, monkeypatch):
    """A developer who is on support duty today, whatever the date."""
    developer = make_user("developer", email="duty-dev@example.com")
    monkeypatch.setitem(app.config, "SUPPORT_ROTATION", [developer.email])
    return developer


def test_an_agent_starts_a_ticket_once_and_it_becomes_the_current_ticket(client, auth, login_as):
    login_as("agent")
    home = page(client.get("/admin/"))
    assert "Start a ticket" in home
    response = client.post("/admin/tickets/start", data={"ref": " HD-1001 ", "csrf_token": auth.csrf()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/tickets/view?ref=HD-1001")
    with client.session_transaction() as session:
        assert session["ticket_ref"] == "HD-1001"
    ticket_page = page(client.get("/admin/tickets/view?ref=HD-1001"))
    assert "your current ticket" in ticket_page and "Nothing is recorded on this ticket yet" in ticket_page


def test_starting_needs_a_csrf_token_and_a_valid_reference(client, auth, login_as):
    login_as("agent")
    assert client.post("/admin/tickets/start", data={"ref": "HD-1"}).status_code == 400
    response = client.post("/admin/tickets/start", data={"ref": "", "csrf_token": auth.csrf()}, follow_redirects=True)
    assert "Ticket reference: a ticket reference is required" in page(response)


def test_a_refused_start_goes_back_only_to_a_page_of_the_console(client, auth, login_as):
    login_as("agent")
    for hostile in ("https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example"):
        response = client.post("/admin/tickets/start", data={"ref": "", "next": hostile, "csrf_token": auth.csrf()})
        assert response.status_code == 302 and response.headers["Location"] == "/admin/tickets/", hostile
    response = client.post("/admin/tickets/start", data={"ref": "", "next": "/admin/runs/", "csrf_token": auth.csrf()})
    assert response.headers["Location"] == "/admin/runs/"


def test_the_ticket_page_links_the_helpdesk_and_shows_runs_and_runbooks(app, client, login_as, event, monkeypatch):
    monkeypatch.setitem(app.config, "HELPDESK_URL_TEMPLATE", "https://helpdesk.example.com/tickets/{ref}")
    monkeypatch.setitem(app.config, "TICKET_REF_PATTERN", "HD [0-9/]+")  # a reference the URL must quote
    event("HD 7/1", "runbook_viewed", 0, runbook="cannot-log-in")
    event("HD 7/1", "task_run", 1, task="unlock_account", run_status="succeeded")
    login_as("agent")
    html = page(client.get("/admin/tickets/view", query_string={"ref": "HD 7/1"}))
    assert 'href="https://helpdesk.example.com/tickets/HD%207%2F1"' in html
    runs = html.split("Task runs</h2>", 1)[1].split("</ul>", 1)[0]
    assert "Unlock a customer account," in runs and "<strong>succeeded</strong>" in runs
    assert 'name="escalation_class"' in html and "would have let you resolve this yourself" in html


def test_a_viewed_runbook_is_named_by_its_title_and_linked(app, client, login_as, event):
    event("HD-8", "runbook_viewed", 0, runbook="cannot-log-in")
    event("HD-8", "runbook_viewed", 1, runbook="retired-runbook")
    login_as("agent")
    html = page(client.get("/admin/tickets/view", query_string={"ref": "HD-8"}))
    viewed = html.split("Runbooks viewed</h2>", 1)[1].split("</ul>", 1)[0]
    assert '<a href="/admin/runbooks/cannot-log-in/">Customer cannot log in</a>' in viewed
    assert ">cannot-log-in<" not in html  # the slug is the link's address, never its text
    assert "retired-runbook <small" in viewed and "no longer in the runbooks" in viewed
    timeline = html.split("Timeline</h2>", 1)[1]
    assert '<a href="/admin/runbooks/cannot-log-in/">Customer cannot log in</a>' in timeline


def test_an_escalation_with_a_missing_tool_reaches_the_developer_on_duty_and_the_ranking(
        client, auth, login_as, on_duty, console_db):
    login_as("agent")
    response = client.post("/admin/tickets/escalate", data={
        "ref": "HD-2002", "escalation_class": "small_change", "category": "orders",
        "missing_tool": "a task to split an order into two shipments", "note": "checked the order",
        "csrf_token": auth.csrf()})
    assert response.status_code == 302
    ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "HD-2002"))
    assert (ticket.outcome, ticket.assignee) == ("escalated", on_duty.email)
    auth.logout()
    auth.login(on_duty.email)
    assert "HD-2002" in page(client.get("/admin/"))
    assert "HD-2002" in page(client.get("/admin/on-duty/"))
    auth.logout()
    login_as("product_owner")
    assert "a task to split an order into two shipments" in page(client.get("/admin/"))
    dashboard = page(client.get("/admin/deflection/", query_string={"panel": "opportunities"}))
    assert "a task to split an order into two shipments" in dashboard


def test_a_bad_escalation_is_shown_again_with_the_field_named(client, auth, login_as, console_db):
    login_as("agent")
    response = client.post("/admin/tickets/escalate", data={"ref": "HD-3", "escalation_class": "urgent",
                                                             "missing_tool": "keep me", "csrf_token": auth.csrf()})
    assert response.status_code == 400
    html = page(response)
    assert "escalation_class must be one of" in html and 'value="keep me"' in html
    assert console_db.scalar(select(Ticket).where(Ticket.ref == "HD-3")) is None


def test_resolve_then_reopen_from_the_page(client, auth, login_as, console_db):
    login_as("lead")
    token = auth.csrf()
    client.post("/admin/tickets/resolve", data={"ref": "HD-4", "category": "account", "csrf_token": token})
    client.post("/admin/tickets/resolve", data={"ref": "HD-4", "category": "account", "csrf_token": token})
    client.post("/admin/tickets/reopen", data={"ref": "HD-4", "note": "customer wrote back", "csrf_token": token})
    kinds = console_db.scalars(select(TicketEvent.kind).join(Ticket).where(Ticket.ref == "HD-4")
                               .order_by(TicketEvent.id)).all()
    assert kinds == ["resolved", "reopened"]
    assert console_db.scalar(select(Ticket.outcome).where(Ticket.ref == "HD-4")) == "open"


def test_a_developer_logs_time_and_closes_the_escalation(client, auth, login_as, event, console_db, on_duty):
    event("HD-5", "escalated", 0, escalation_class="specialist", category="payments")
    auth.login(on_duty.email)
    whys = {"why_1": "w1", "why_2": "w2", "why_3": "w3", "why_4": "w4", "root_cause": "no refund retry",
            "action_kind": "product_fix", "action": "retry refunds", "action_link": "https://git.example.com/pr/1"}
    without = client.post("/admin/tickets/time", data={"ref": "HD-5", "minutes": "75", "close": "1",
                                                        "csrf_token": auth.csrf()} | whys | {"why_2": ""})
    assert without.status_code == 400 and "why_2 is required" in page(without)
    assert 'value="no refund retry"' in page(without)  # the rest of the form is kept
    response = client.post("/admin/tickets/time", data={"ref": "HD-5", "minutes": "75", "close": "1",
                                                         "csrf_token": auth.csrf()} | whys)
    assert response.status_code == 302
    ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "HD-5"))
    assert (ticket.dev_minutes, ticket.escalation_closed_at is not None) == (75, True)
    bad = client.post("/admin/tickets/time", data={"ref": "HD-5", "minutes": "lots", "csrf_token": auth.csrf()})
    assert bad.status_code == 400 and "minutes must be a whole number" in page(bad)
    assert client.post("/admin/tickets/time", data={"ref": "HD-none", "minutes": "5",
                                                    "csrf_token": auth.csrf()}).status_code == 404


@pytest.mark.parametrize("role, path, status", [
    ("product_owner", "/admin/tickets/view?ref=HD-1", 403),
    ("product_owner", "/admin/tickets/", 403),
    ("agent", "/admin/on-duty/", 403),
    ("developer", "/admin/tickets/", 200),
])
def test_pages_follow_the_permissions(client, login_as, role, path, status):
    login_as(role)
    assert client.get(path).status_code == status


def test_only_the_right_roles_may_post(client, auth, login_as, event):
    event("HD-6", "escalated", 0, escalation_class="knowledge")
    login_as("developer")
    assert client.post("/admin/tickets/escalate", data={"ref": "HD-6", "escalation_class": "knowledge",
                                                         "csrf_token": auth.csrf()}).status_code == 403
    auth.logout()
    login_as("agent")
    assert client.post("/admin/tickets/time", data={"ref": "HD-6", "minutes": "5",
                                                     "csrf_token": auth.csrf()}).status_code == 403


def test_every_ticket_reader_gets_the_list_filtered_by_outcome(client, auth, login_as, event):
    event("LIST-1", "escalated", 0, escalation_class="knowledge", category="orders")
    event("LIST-2", "resolved", 1)
    for role in ("lead", "agent", "developer"):
        login_as(role)
        html = page(client.get("/admin/tickets/?status=escalated"))
        assert "LIST-1" in html and "LIST-2" not in html, role
        auth.logout()


def test_an_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/tickets/view?ref=HD-1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/admin/deflection/").status_code == 302


def test_the_on_duty_page_shows_the_rotation(client, login_as, on_duty):
    login_as("developer")
    html = page(client.get("/admin/on-duty/"))
    assert f"On duty now: <strong>{on_duty.email}</strong>" in html
    assert str(date.today().year) in html
