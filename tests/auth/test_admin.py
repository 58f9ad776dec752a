"""The admin-only staff and token views: changes go through the services and are audited."""
import re

from sqlalchemy import select

from console.audit.models import AuditEntry
from console.auth.models import ApiToken, StaffUser


def test_admin_issues_a_token_that_is_shown_once_and_works(client, login_as, make_user, auth, console_db):
    login_as("admin")
    target = make_user("agent")
    page = client.get("/admin/api_tokens/issue/")
    token_field = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/admin/api_tokens/issue/",
                           data={"email": target.email, "name": "helpdesk", "csrf_token": token_field})
    token = re.search(r'id="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    stored = console_db.scalars(select(ApiToken).where(ApiToken.user_id == target.id)).one()
    assert stored.token_hash != token and stored.name == "helpdesk"
    api = client.get("/api/v1/runbooks", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert console_db.scalars(select(AuditEntry).where(AuditEntry.action == "token.create")).all()


def test_unknown_user_gets_a_clear_error(client, login_as, auth):
    login_as("admin")
    response = client.post("/admin/api_tokens/issue/", data={"email": "ghost@example.com",
                                                               "csrf_token": auth.csrf()})
    assert response.status_code == 400
    assert "No enabled staff user with the email" in response.get_data(as_text=True)


def test_role_change_in_the_admin_view_ends_the_users_sessions_and_is_audited(app, client, login_as, make_user,
                                                                              auth, console_db):
    victim = make_user("lead")
    other = app.test_client()
    from tests.conftest import AuthActions

    assert AuthActions(other).login(victim.email).status_code == 302
    login_as("admin")
    edit = client.get(f"/admin/staff_users/edit/?id={victim.id}")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                     edit.get_data(as_text=True))
    token = csrf.group(1) or csrf.group(2)
    response = client.post(f"/admin/staff_users/edit/?id={victim.id}", data={
        "email": victim.email, "name": victim.name, "role": "agent", "team": "support", "active": "y",
        "csrf_token": token})
    assert response.status_code == 302
    console_db.expire_all()
    assert console_db.get(StaffUser, victim.id).role == "agent"
    assert other.get("/admin/").status_code == 302  # the lead's old session is dead
    change = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "user.role_change")).one()
    assert '"from":"lead"' in change.details and '"to":"agent"' in change.details


def test_password_hash_is_never_shown(client, login_as, make_user):
    login_as("admin")
    user = make_user("agent")
    for url in ("/admin/staff_users/", f"/admin/staff_users/details/?id={user.id}",
                f"/admin/staff_users/edit/?id={user.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "$argon2" not in html and "password_hash" not in html
