"""The home page shows whether the trail verifies: the last verified seq and when it was checked."""
from sqlalchemy import select

from console.audit.models import AuditVerification
from tests.committed import make_committed_user
from tests.conftest import TEST_PASSWORD, csrf_token_from


def logged_in(made, role: str):
    email = make_committed_user(made.app, role)
    client = made.app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def test_roles_that_read_the_audit_see_the_checks_others_do_not(login_as, client):
    login_as("lead")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Audit trail checks" in html and "Never verified" in html
    assert "Verify now" not in html  # leads read the trail; verifying it is for admins


def test_agents_do_not_see_the_checks(login_as, client):
    login_as("agent")
    assert "Audit trail checks" not in client.get("/admin/").get_data(as_text=True)


def test_verify_now_checks_the_trail_and_the_home_page_says_so(trail):
    made = trail()
    made.record(12)
    client = logged_in(made, "admin")
    home = client.get("/admin/").get_data(as_text=True)
    token = csrf_token_from(home)
    response = client.post("/admin/audit/verify", data={"csrf_token": token})
    assert response.status_code == 302
    home = client.get("/admin/").get_data(as_text=True)
    # 12 recorded entries plus the admin's login.
    assert "OK 13 entries" in home
    assert "13 entries up to seq 13 checked on" in home
    assert "Last verified checkpoint: seq 11" in home


def test_verify_now_needs_the_verify_permission_and_a_csrf_token(trail):
    made = trail()
    lead = logged_in(made, "lead")
    token = csrf_token_from(lead.get("/admin/").get_data(as_text=True))
    assert lead.post("/admin/audit/verify", data={"csrf_token": token}).status_code == 403
    admin = logged_in(made, "admin")
    assert admin.post("/admin/audit/verify", data={}).status_code == 400
    with made.engine.connect() as conn:
        assert conn.execute(select(AuditVerification)).all() == []


def test_a_failed_check_is_shown_with_its_seq(trail):
    made = trail()
    made.record(6)
    made.drop_triggers()
    made.sql("UPDATE audit_entries SET reason = 'edited' WHERE seq = 3")
    assert made.verify()[0] == 1
    client = logged_in(made, "lead")
    html = client.get("/admin/").get_data(as_text=True)
    assert "failed" in html and "seq 3: modified" in html
