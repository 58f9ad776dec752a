"""Login, logout and session invalidation through the real browser forms."""
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import delete, select, update

from console.audit.models import AuditEntry
from console.auth.models import StaffUser


def test_login_page_has_the_contract_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for field in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert field in html


def test_login_then_every_page_carries_a_csrf_meta_tag(login_as, client):
    login_as("agent")
    html = client.get("/admin/").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in html


def test_wrong_password_is_generic_and_audited(client, auth, make_user, console_db):
    user = make_user("agent")
    response = auth.login(user.email, "wrong password!!")
    assert response.status_code == 401
    assert "Email or password is not right." in response.get_data(as_text=True)
    unknown = auth.login("nobody@example.com", "wrong password!!")
    assert unknown.get_data(as_text=True).count("Email or password is not right.") == 1
    actions = console_db.scalars(select(AuditEntry.action).where(AuditEntry.actor == user.email)).all()
    assert "login.failed" in actions


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user("agent")
    from tests.conftest import TEST_PASSWORD

    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_successful_login_is_audited(auth, make_user, console_db):
    user = make_user("lead")
    assert auth.login(user.email).status_code == 302
    entry = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "login")).all()[-1]
    assert entry.actor == user.email


def test_logout_needs_post_and_kills_copied_cookie(app, client, auth, login_as):
    login_as("agent")
    assert client.get("/logout").status_code == 405
    cookie = client.get_cookie("session").value
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_disabling_a_user_kills_their_session(app, client, login_as, console_db):
    from console.auth.services import set_active

    user = login_as("agent")
    assert client.get("/admin/").status_code == 200
    set_active(console_db, user, False, actor="admin@example.com")
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deleted_user_is_refused_on_the_next_request(client, login_as, console_db):
    user = login_as("agent")
    assert client.get("/admin/").status_code == 200
    console_db.execute(delete(StaffUser).where(StaffUser.id == user.id))
    console_db.flush()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_role_is_read_afresh_on_every_request(client, login_as, console_db):
    # Even a change that leaves the session version alone (not how the console changes roles) takes
    # effect on the next request: nothing of the user is kept between requests.
    user = login_as("agent")
    assert client.get("/admin/audit/").status_code == 403
    console_db.execute(update(StaffUser).where(StaffUser.id == user.id).values(role="lead"))
    console_db.flush()
    assert client.get("/admin/audit/").status_code == 200
    console_db.execute(update(StaffUser).where(StaffUser.id == user.id).values(role="agent"))
    console_db.flush()
    assert client.get("/admin/audit/").status_code == 403


def test_logging_out_ends_the_session_the_request_was_signed_in_with(app, client, auth, login_as, console_db):
    user = login_as("agent")
    before = console_db.get(StaffUser, user.id).session_version
    assert auth.logout().status_code == 302
    console_db.expire_all()
    assert console_db.get(StaffUser, user.id).session_version == before + 1
    entry = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "logout")).all()[-1]
    assert entry.actor == user.email and entry.subject_id == str(user.id)


def test_next_parameter_cannot_redirect_off_site(client, auth, make_user):
    user = make_user("agent")
    page = client.get("/login?next=//evil.example/")
    from tests.conftest import TEST_PASSWORD, csrf_token_from

    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login?next=//evil.example/",
                           data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/admin/")


HOSTILE_NEXT = [
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\r/evil.example", "\t//evil.example",
    "/ /evil.example", "/\x00/evil.example", "/\u200b/evil.example", "/\u2028/evil.example",
    "/x\r\nSet-Cookie: a=b", "/x\nLocation: https://evil.example", "//evil.example", "///evil.example",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
    "https://evil.example/", "http:evil.example", "https:/evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", " javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
    "evil.example", "@evil.example", "", " ", "/\t", "%0A", "\u3002evil.example",
]


def _assert_stays_home(response):
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and not any(char in location for char in "\t\r\n ")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_logged_in_user_is_never_sent_off_the_console(login_as, client, target):
    login_as("agent")
    response = client.get("/login?next=" + quote(target, safe=""))
    _assert_stays_home(response)
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("query", ["%2F%09%2Fevil.example", "%2F%0A%2Fevil.example", "%2F%2Fevil.example",
                                   "%2F%5Cevil.example", "%2F%0D%0ALocation:%20https://evil.example",
                                   "https%3A%2F%2Fevil.example", "javascript%3Aalert(1)", "%2F%252F%252Fevil.example"])
def test_hostile_next_as_browsers_send_it_stays_home(login_as, client, query):
    login_as("agent")
    _assert_stays_home(client.get("/login?next=" + query))


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "javascript:x"])
def test_logging_in_with_a_hostile_next_lands_on_the_home_page(client, auth, make_user, target):
    from tests.conftest import TEST_PASSWORD, csrf_token_from

    user = make_user("agent")
    path = "/login?next=" + quote(target, safe="")
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    _assert_stays_home(response)
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", ["/admin/runs/", "/admin/tickets/view?ref=T-1&x=%2F%2F", "/admin/records/customers/?q=a+b"])
def test_next_leads_to_a_page_of_the_console(login_as, client, target):
    login_as("agent")
    response = client.get("/login?next=" + quote(target, safe=""))
    assert response.status_code == 302 and response.headers["Location"] == target


def test_no_login_without_an_audit_entry(client, auth, make_user, monkeypatch):
    from console.audit.chain import AuditUnavailable

    def unwritable(*args, **kwargs):
        raise AuditUnavailable("the audit trail could not be written")

    user = make_user("agent")
    monkeypatch.setattr("console.auth.signin.record_event", unwritable)
    response = auth.login(user.email)
    assert response.status_code == 503
    assert "audit trail cannot be written" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # not logged in
