"""Finding tickets: GET /api/v1/tickets and the ticket list page (status, mine, q, keyset pages)."""
import pytest

from console.deflection import listing

HELPDESK = "https://acme.zendesk.com/agent/tickets/{ref}"


def get(client, headers, **args):
    return client.get("/api/v1/tickets", query_string=args, headers=headers)


def refs(answer) -> list[str]:
    return [ticket["ref"] for ticket in answer["tickets"]]


@pytest.fixture
def tickets(event, make_user):
    """Five tickets: the agent worked on LS-1 (runbook), LS-3 (outcome) and LS-5 (task run); LS-4 is assigned."""
    agent = make_user("agent", email="ann@example.com")
    other = "bob@example.com"
    event("LS-1", "runbook_viewed", 0, actor=agent.email, runbook="cannot-log-in")
    event("LS-2", "resolved", 1, actor=other)
    event("LS-3", "escalated", 2, actor=agent.email, escalation_class="knowledge")
    event("LS-4", "escalated", 3, actor=other, escalation_class="specialist", assignee=agent.email)
    event("LS-5", "task_run", 4, actor=agent.email, task="unlock_account", run_id=77, run_status="succeeded",
          customer="Carol@Example.com")
    return agent


def test_newest_first_with_the_contract_fields(client, api_token, tickets, app, monkeypatch):
    monkeypatch.setitem(app.config, "HELPDESK_URL_TEMPLATE", HELPDESK)
    _user, headers = api_token("lead")
    answer = get(client, headers).get_json()
    assert refs(answer) == ["LS-5", "LS-4", "LS-3", "LS-2", "LS-1"] and answer["next"] is None
    first = answer["tickets"][0]
    assert {"ref", "outcome", "category", "assignee", "updated_at"} <= set(first)
    assert first["helpdesk_url"] == "https://acme.zendesk.com/agent/tickets/LS-5"
    assert first["customer"] not in ("", "carol@example.com") and first["updated_at"].endswith("Z")  # masked


def test_mine_is_what_the_caller_worked_on_or_was_assigned(client, api_token, tickets, console_db):
    from console.auth.services import create_token

    headers = {"Authorization": f"Bearer {create_token(console_db, tickets, 'test')}"}
    assert refs(get(client, headers, mine="1").get_json()) == ["LS-5", "LS-4", "LS-3", "LS-1"]
    assert refs(get(client, headers, mine="1", status="escalated").get_json()) == ["LS-4", "LS-3"]
    assert len(refs(get(client, headers, mine="0").get_json())) == 5


def test_q_finds_a_reference_its_helpdesk_link_or_a_customer(client, api_token, tickets, app, monkeypatch):
    monkeypatch.setitem(app.config, "HELPDESK_URL_TEMPLATE", HELPDESK)
    _user, headers = api_token("agent")
    assert refs(get(client, headers, q="LS-2").get_json()) == ["LS-2"]
    assert refs(get(client, headers, q="https://acme.zendesk.com/agent/tickets/LS-3?tab=x").get_json()) == ["LS-3"]
    assert refs(get(client, headers, q="carol@example.com").get_json()) == ["LS-5"]
    assert refs(get(client, headers, q="nobody knows <this>").get_json()) == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(tickets, console_db):
    seen, after = [], None
    for _ in range(5):
        page, after = listing.find_tickets(console_db, listing.TicketQuery(after=after, limit=2))
        seen += [ticket.ref for ticket in page]
        if after is None:
            break
    assert seen == ["LS-5", "LS-4", "LS-3", "LS-2", "LS-1"]


def test_the_api_gives_the_next_cursor_and_takes_it_back(client, api_token, event):
    for number in range(listing.PAGE_SIZE + 1):
        event(f"PG-{number}", "resolved", number)
    _user, headers = api_token("lead")
    first = get(client, headers).get_json()
    assert len(first["tickets"]) == listing.PAGE_SIZE and first["next"]
    second = get(client, headers, after=first["next"]).get_json()
    assert refs(second) == ["PG-0"] and second["next"] is None


@pytest.mark.parametrize("args, field", [
    ({"status": "closed"}, "status"),
    ({"mine": "yes"}, "mine"),
    ({"after": "abc"}, "after"),
    ({"after": "0"}, "after"),
    ({"after": "99999999999"}, "after"),
    ({"q": "x" * 255}, "q"),
    ({"q": "a\x01b"}, "q"),
    ({"category": "a\x7fb"}, "category"),
])
def test_bad_input_is_a_400_naming_the_field(client, api_token, args, field):
    _user, headers = api_token("agent")
    response = get(client, headers, **args)
    assert response.status_code == 400 and field in response.get_json()["error"]["fields"], response.get_json()


def test_the_list_page_starts_with_my_open_tickets(client, auth, tickets, event):
    event("LS-6", "runbook_viewed", 5, actor=tickets.email, runbook="cannot-log-in")
    auth.login(tickets.email)
    html = client.get("/admin/tickets/").get_data(as_text=True)
    listed = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert all(f"LS-{n}<" in listed for n in (6, 5, 1))
    assert "LS-3<" not in listed and "LS-2<" not in listed  # escalated; and someone else's
    tabs = html.split('aria-label="Ticket lists"', 1)[1].split("</nav>", 1)[0]
    assert tabs.count('aria-current="page"') == 1 and 'aria-current="page">My open tickets' in tabs
    escalated = client.get("/admin/tickets/?status=escalated&mine=0").get_data(as_text=True)
    assert "LS-3" in escalated and "LS-4" in escalated and "LS-1" not in escalated.split("<tbody>", 1)[1]


def test_the_list_page_names_a_bad_field(client, login_as):
    login_as("agent")
    response = client.get("/admin/tickets/?status=closed")
    assert response.status_code == 400 and "<strong>status</strong>" in response.get_data(as_text=True)


def test_customers_are_masked_on_the_list(client, auth, tickets):
    auth.login(tickets.email)
    html = client.get("/admin/tickets/?mine=1").get_data(as_text=True)
    assert "carol@example.com" not in html and 'class="masked"' in html


def test_get_on_a_post_only_path_is_a_405_and_a_bad_reference_a_400(client, api_token):
    _user, headers = api_token("agent")
    for path in ("/api/v1/tickets/T-1/outcome", "/api/v1/tickets/T-1/dev-time"):
        response = client.get(path, headers=headers)
        assert response.status_code == 405 and "POST" in response.headers["Allow"], path
    response = client.get("/api/v1/tickets/T%201", headers=headers)
    assert response.status_code == 400 and "ticket" in response.get_json()["error"]["fields"]


def test_category_narrows_the_list(client, api_token, event):
    event("CA-1", "resolved", 0, category="Payments")
    event("CA-2", "resolved", 1, category="orders")
    _user, headers = api_token("lead")
    assert refs(get(client, headers, category="payments").get_json()) == ["CA-1"]
    assert get(client, headers, category="x" * 61).status_code == 400
