"""The runbook pages: search, a runbook for the ticket in hand, ticks, errors and permissions."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from console.deflection.models import TicketEvent
from console.deflection.tickets import add_ticket_event
from console.runbooks.library import RunbookLibrary
from console.runbooks.models import RunbookSearchMiss, RunbookTick
from tests.runbooks.conftest import GOOD_FRONT

LOGIN_RUNBOOK = "/admin/runbooks/cannot-log-in/"
OWN_PAGE = {"Sec-Fetch-Site": "same-origin"}  # what a browser sends for a link or form on one of our pages


def text_of(response) -> str:
    return response.get_data(as_text=True)


def work_ticket(client, ref: str) -> None:
    with client.session_transaction() as session:
        session["ticket_ref"] = ref


def task_buttons(html: str, task: str) -> list[str]:
    return [unquote(href).replace("&amp;", "&")
            for href in re.findall(rf'<a href="([^"]+)" class="[^"]*task-link[^"]*" data-task="{task}"', html)]


def viewed(console_db, ref: str) -> list[str]:
    return list(console_db.scalars(
        select(TicketEvent.runbook).join(TicketEvent.ticket).where(TicketEvent.kind == "runbook_viewed")
        .where(TicketEvent.ticket.has(ref=ref)).order_by(TicketEvent.id)))


@pytest.fixture
def own_runbooks(app, tmp_path, monkeypatch):
    """Serve runbooks from a temporary folder: own_runbooks({'slug': text}) -> folder."""

    def use(files: dict[str, str]):
        for slug, text in files.items():
            (tmp_path / f"{slug}.md").write_text(text)
        monkeypatch.setitem(app.extensions, "runbooks", RunbookLibrary(tmp_path))
        return tmp_path

    return use


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/admin/runbooks/")

    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_shows_every_shipped_runbook_by_category(client, login_as):
    login_as("agent")
    html = text_of(client.get("/admin/runbooks/"))

    assert "Customer cannot log in" in html and "Refund request (partial or full)" in html
    assert re.search(r"\d+ runbooks\.", html)


def test_search_ranks_the_symptom_match_first(client, login_as):
    login_as("agent")
    html = text_of(client.get("/admin/runbooks/", query_string={"q": "can't log in"}))

    first = re.search(r'id="runbook-results">\s*<li class="mb-3">\s*<a class="h6" href="([^"]+)"', html)
    assert first and first.group(1) == LOGIN_RUNBOOK
    assert "“can&#39;t log in”" in html  # the matched symptom is shown, escaped


def test_search_with_no_result_is_recorded_once_as_a_gap(client, login_as, console_db):
    user = login_as("agent")
    work_ticket(client, "T-31")

    first = client.get("/admin/runbooks/", query_string={"q": "Gift card balance?"}, headers=OWN_PAGE)
    client.get("/admin/runbooks/", query_string={"q": "gift  card balance"}, headers=OWN_PAGE)  # the same gap

    assert "No runbook matches" in text_of(first) and "recorded as a runbook gap" in text_of(first)
    misses = console_db.scalars(select(RunbookSearchMiss)).all()
    assert [(m.query, m.terms, m.actor, m.ticket) for m in misses] == [
        ("Gift card balance?", "balanc card gift", user.email, "T-31")]


@pytest.mark.parametrize("query", ["\x00", "x" * 5000, "<script>alert(1)</script>", "'; DROP TABLE runbooks; --",
                                   "日本語", "%"])
def test_odd_queries_never_fail(client, login_as, query):
    login_as("agent")
    response = client.get("/admin/runbooks/", query_string={"q": query})

    assert response.status_code == 200
    assert "<script>alert(1)" not in text_of(response)


def test_undecodable_query_bytes_never_fail(client, login_as):
    login_as("agent")

    assert client.get("/admin/runbooks/?q=%ED%A0%80%FF%00").status_code == 200


def test_page_fills_the_task_button_and_counts_the_view_on_the_ticket(client, login_as, console_db):
    login_as("agent")
    work_ticket(client, "T-7")

    response = client.get(LOGIN_RUNBOOK, query_string={"email": "locked@example.com"}, headers=OWN_PAGE)

    assert response.status_code == 200
    [unlock] = task_buttons(text_of(response), "unlock_account")
    assert urlsplit(unlock).path == "/admin/tasks/unlock_account/"
    query = parse_qs(urlsplit(unlock).query)
    assert query["email"] == ["locked@example.com"] and query["ticket"] == ["T-7"]
    assert viewed(console_db, "T-7") == ["cannot-log-in"]

    client.get(LOGIN_RUNBOOK, headers=OWN_PAGE)  # reading it again is the same view
    assert viewed(console_db, "T-7") == ["cannot-log-in"]


def test_a_view_after_a_reopen_counts_again(client, login_as, console_db, app):
    login_as("agent")
    work_ticket(client, "T-8")
    client.get(LOGIN_RUNBOOK, headers=OWN_PAGE)
    with app.app_context():
        add_ticket_event(console_db, "T-8", "reopened", actor="lead@example.com")
        console_db.flush()

    client.get(LOGIN_RUNBOOK, headers=OWN_PAGE)

    assert viewed(console_db, "T-8") == ["cannot-log-in", "cannot-log-in"]


@pytest.mark.parametrize("headers", [
    {}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "none"},
    {"Referer": "https://helpdesk.example.net/tickets/7"},
    {"Sec-Fetch-Site": "cross-site", "Referer": "http://localhost/admin/"},
    {"Sec-Fetch-Site": "same-origin", "Sec-Purpose": "prefetch"},
], ids=["no-headers", "cross-site", "same-site", "typed-in", "foreign-referer", "cross-site-own-referer", "prefetch"])
def test_a_link_from_another_site_writes_nothing(client, login_as, console_db, headers):
    login_as("agent")
    work_ticket(client, "T-9")

    page = client.get(LOGIN_RUNBOOK, headers=headers)
    search = client.get("/admin/runbooks/", query_string={"q": "loyalty points expired"}, headers=headers)

    assert page.status_code == search.status_code == 200
    assert "for ticket <strong>T-9</strong>" in text_of(page)  # the agent still reads it for the ticket in hand
    assert "not counted as viewed on ticket <strong>T-9</strong>" in text_of(page)
    assert console_db.scalars(select(TicketEvent)).all() == []
    assert console_db.scalars(select(RunbookSearchMiss)).all() == []
    assert "recorded as a runbook gap" not in text_of(search)


def test_the_page_s_button_counts_a_view_that_came_from_another_site(client, login_as, auth, console_db):
    login_as("agent")
    work_ticket(client, "T-11")
    assert 'action="/admin/runbooks/cannot-log-in/viewed"' in text_of(client.get(LOGIN_RUNBOOK))
    token = auth.csrf(LOGIN_RUNBOOK)

    assert client.post(LOGIN_RUNBOOK + "viewed").status_code == 400  # no CSRF token: refused
    assert viewed(console_db, "T-11") == []
    response = client.post(LOGIN_RUNBOOK + "viewed", data={"csrf_token": token})

    assert response.status_code == 303 and response.headers["Location"].endswith(LOGIN_RUNBOOK)
    assert viewed(console_db, "T-11") == ["cannot-log-in"]
    assert "not counted as viewed" not in text_of(client.get(LOGIN_RUNBOOK, headers=OWN_PAGE))


def test_counting_a_view_needs_a_ticket_and_a_role_that_works_tickets(client, login_as, auth, console_db):
    login_as("agent")
    assert client.post(LOGIN_RUNBOOK + "viewed", data={"csrf_token": auth.csrf(LOGIN_RUNBOOK)}).status_code == 400
    auth.logout()
    login_as("product_owner")
    assert client.post(LOGIN_RUNBOOK + "viewed", data={"csrf_token": auth.csrf(LOGIN_RUNBOOK)}).status_code == 403
    assert console_db.scalars(select(TicketEvent)).all() == []


def test_an_older_browser_s_same_origin_referer_counts(client, login_as, console_db):
    login_as("agent")
    work_ticket(client, "T-10")

    client.get(LOGIN_RUNBOOK, headers={"Referer": "http://localhost/admin/runbooks/?q=login"})

    assert viewed(console_db, "T-10") == ["cannot-log-in"]


def test_without_a_ticket_nothing_is_recorded_and_the_page_says_so(client, login_as, console_db):
    login_as("agent")

    html = text_of(client.get(LOGIN_RUNBOOK, query_string={"order_id": "1003", "email": "not an email"},
                              headers=OWN_PAGE))

    assert "No ticket in hand" in html
    assert console_db.scalars(select(TicketEvent)).all() == []
    [unlock] = task_buttons(html, "unlock_account")
    assert parse_qs(urlsplit(unlock).query) == {"reason": ["Customer locked out after failed sign-ins"]}


def test_internal_links_carry_the_customer_along(client, login_as):
    login_as("agent")
    html = text_of(client.get(LOGIN_RUNBOOK, query_string={"email": "alice@example.com"}))

    assert 'href="/admin/runbooks/confirmation-email-missing/?email=alice@example.com#decide"' in html


def test_page_shows_related_runbooks_and_outcomes_after_viewing(client, login_as, console_db, app):
    login_as("agent")
    with app.app_context():
        add_ticket_event(console_db, "T-1", "runbook_viewed", runbook="cannot-log-in")
        add_ticket_event(console_db, "T-1", "resolved")
        add_ticket_event(console_db, "T-2", "runbook_viewed", runbook="cannot-log-in")
        add_ticket_event(console_db, "T-2", "escalated", escalation_class="specialist")
        add_ticket_event(console_db, "T-3", "runbook_viewed", runbook="password-reset")
        console_db.flush()

    html = text_of(client.get(LOGIN_RUNBOOK))

    outcomes = re.sub(r"\s+", " ", re.search(r'id="runbook-outcomes">(.*?)</p>', html, re.S).group(1))
    assert "Viewed on 2 tickets" in outcomes and "<strong>1</strong> resolved" in outcomes
    assert "<strong>1</strong> escalated" in outcomes
    related = re.search(r'id="related-title">.*?</section>', html, re.S).group(0)
    assert "Password reset" in related and "Customer cannot log in" not in related


def test_unknown_runbook_is_a_404(client, login_as):
    login_as("agent")

    response = client.get("/admin/runbooks/no-such-runbook/")

    assert response.status_code == 404 and "no-such-runbook" in text_of(response)


def test_broken_runbook_shows_its_error_instead_of_crashing(client, login_as, own_runbooks):
    login_as("agent")
    own_runbooks({"broken": "---\ntitle: Broken\nsymptoms: [unclosed\n---\n# Body\n"})

    listing = text_of(client.get("/admin/runbooks/"))
    page = client.get("/admin/runbooks/broken/")

    assert "has an error" in listing
    assert page.status_code == 200
    assert "This runbook has an error" in text_of(page) and "broken.md:4:" in text_of(page)


def test_hostile_runbook_content_is_sanitised_on_the_page(client, login_as, own_runbooks):
    login_as("agent")
    own_runbooks({"hostile": "---\n" + GOOD_FRONT + "---\n<script>alert(1)</script>\n\n"
                             '<img src="x" onerror="alert(2)"> [x](javascript:alert(3))\n'})

    html = text_of(client.get("/admin/runbooks/hostile/"))

    assert "alert(1)" not in html and "onerror" not in html and "javascript:alert(3)" not in html.replace("[x](", "")


def test_product_owner_reads_but_has_no_task_buttons_or_ticket(client, login_as, console_db):
    login_as("product_owner")
    work_ticket(client, "T-9")

    html = text_of(client.get(LOGIN_RUNBOOK))

    assert task_buttons(html, "unlock_account") == []
    assert "task-link-missing" in html
    assert console_db.scalars(select(TicketEvent)).all() == []


def check_ids(html: str) -> list[str]:
    return re.findall(r'data-check="([^"]+)"', html)


def test_ticks_are_kept_on_the_ticket(client, login_as, auth, console_db):
    login_as("agent")
    work_ticket(client, "T-7")
    html = text_of(client.get(LOGIN_RUNBOOK))
    first = check_ids(html)[0]
    headers = {"X-CSRFToken": auth.csrf(LOGIN_RUNBOOK)}

    response = client.post(LOGIN_RUNBOOK + "ticks", json={"check": first, "ticked": True}, headers=headers)

    assert response.status_code == 200 and response.get_json() == {"ticket": "T-7", "check": first, "ticked": True}
    assert re.search(rf'data-check="{re.escape(first)}" checked', text_of(client.get(LOGIN_RUNBOOK)))
    client.post(LOGIN_RUNBOOK + "ticks", json={"check": first, "ticked": False}, headers=headers)
    assert not re.search(rf'data-check="{re.escape(first)}" checked', text_of(client.get(LOGIN_RUNBOOK)))
    assert [t.ticked for t in console_db.scalars(select(RunbookTick))] == [True, False]


@pytest.mark.parametrize("body, field", [
    ({"check": "cannot-log-in:not-an-item", "ticked": True}, "check"),
    ({"check": None, "ticked": True}, "check"),
    ({"ticked": "yes"}, "check"),
])
def test_bad_ticks_are_refused_by_field(client, login_as, auth, body, field):
    login_as("agent")
    work_ticket(client, "T-7")

    response = client.post(LOGIN_RUNBOOK + "ticks", json=body, headers={"X-CSRFToken": auth.csrf(LOGIN_RUNBOOK)})

    assert response.status_code == 400 and field in response.get_json()["error"]["fields"]


def test_ticks_need_a_ticket_a_csrf_token_and_the_right_role(client, login_as, auth):
    login_as("agent")
    item = check_ids(text_of(client.get(LOGIN_RUNBOOK)))[0]
    token = auth.csrf(LOGIN_RUNBOOK)

    no_ticket = client.post(LOGIN_RUNBOOK + "ticks", json={"check": item, "ticked": True},
                            headers={"X-CSRFToken": token})
    work_ticket(client, "T-7")
    no_csrf = client.post(LOGIN_RUNBOOK + "ticks", json={"check": item, "ticked": True})
    unknown = client.post("/admin/runbooks/nope/ticks", json={"check": item, "ticked": True},
                          headers={"X-CSRFToken": token})

    assert no_ticket.status_code == 400 and "ticket" in no_ticket.get_json()["error"]["fields"]
    assert no_csrf.status_code == 400
    assert unknown.status_code == 404


def test_home_page_offers_the_runbook_search(client, login_as):
    login_as("agent")

    assert 'action="/admin/runbooks/"' in text_of(client.get("/admin/"))
