"""The admin-only staff and token views: changes go through the services and are audited."""
import json
import re

import pytest
from sqlalchemy import func, select

from console.audit.models import AuditEntry
from console.auth.models import ApiToken, StaffUser
from tests.conftest import AuthActions, csrf_token_from


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


def _create_form(client, **fields):
    """Post Admin › Staff users › Create as a browser does."""
    page = client.get("/admin/staff_users/new/")
    form = {"email": "new.person@example.com", "name": "New Person", "role": "agent", "team": "support",
            "active": "y", "new_password": "long enough password",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)), **fields}
    return client.post("/admin/staff_users/new/", data=form)


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "not-an-email"}, "email", "is not an email address"),
    ({"new_password": ""}, "password", "a password is required"),
    ({"team": ""}, "team", "team is required"),
])
def test_creating_a_user_in_the_admin_names_the_broken_rule_and_saves_nothing(client, login_as, console_db, fields,
                                                                              field, message):
    login_as("admin")
    before = console_db.scalar(select(func.count()).select_from(StaffUser))

    response = _create_form(client, **fields)

    assert response.status_code == 200  # the form again, with the error
    assert f"{field}: " in response.get_data(as_text=True) and message in response.get_data(as_text=True)
    assert console_db.scalar(select(func.count()).select_from(StaffUser)) == before
    assert not console_db.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).all()


def test_creating_a_user_in_the_admin_normalises_the_email_and_audits_it(client, login_as, console_db):
    admin = login_as("admin")

    response = _create_form(client, email="  New.Person@Example.COM ")

    assert response.status_code == 302
    user = console_db.scalars(select(StaffUser).where(StaffUser.email == "new.person@example.com")).one()
    entry = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert entry.actor == admin.email and entry.subject_id == str(user.id)


def test_every_kind_of_edit_in_the_admin_is_audited_and_a_new_password_ends_sessions(app, client, login_as, make_user,
                                                                                    console_db):
    victim = make_user("agent")
    other = app.test_client()
    assert AuthActions(other).login(victim.email).status_code == 302
    admin = login_as("admin")
    edit = f"/admin/staff_users/edit/?id={victim.id}"
    response = client.post(edit, data={
        "email": "moved@example.com", "name": "Moved Person", "role": "lead", "team": "billing", "active": "",
        "new_password": "an admin-chosen passphrase", "csrf_token": csrf_token_from(client.get(edit).get_data(as_text=True))})
    assert response.status_code == 302

    rows = console_db.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(victim.id),
                                                       AuditEntry.action.like("user.%")).order_by(AuditEntry.seq)).all()
    # Each entry also names the request that wrote it; that is tested in tests/observability.
    details = {row.action: json.loads(row.details) for row in rows}
    assert len({entry.pop("request_id") for entry in details.values()}) == 1
    assert details == {
        "user.email_change": {"email": "moved@example.com", "from": victim.email, "to": "moved@example.com"},
        "user.name_change": {"email": "moved@example.com", "from": victim.name, "to": "Moved Person"},
        "user.role_change": {"email": "moved@example.com", "from": "agent", "to": "lead"},
        "user.team_change": {"email": "moved@example.com", "from": "support", "to": "billing"},
        "user.disable": {"email": "moved@example.com", "from": True, "to": False, "tokens_revoked": []},
        "user.password_change": {"email": "moved@example.com", "change": "password changed"},
    }
    assert {row.actor for row in rows} == {admin.email}
    assert "an admin-chosen passphrase" not in " ".join(row.details for row in rows)
    assert other.get("/admin/").status_code == 302  # their session ended


def test_a_broken_rule_in_the_admin_edit_form_saves_nothing(client, login_as, make_user, console_db):
    victim = make_user("agent")
    login_as("admin")
    edit = f"/admin/staff_users/edit/?id={victim.id}"
    response = client.post(edit, data={
        "email": "not-an-email", "name": "Half Written", "role": "lead", "team": "support", "active": "y",
        "csrf_token": csrf_token_from(client.get(edit).get_data(as_text=True))})

    assert response.status_code == 200 and "email: " in response.get_data(as_text=True)
    console_db.expire_all()
    assert (console_db.get(StaffUser, victim.id).name, console_db.get(StaffUser, victim.id).role) == (victim.name,
                                                                                                      "agent")
