"""The staff-account rules: every change audited with its old and new value, never a password."""
import json

import pytest
from sqlalchemy import select, update

from console.audit.models import AuditEntry
from console.auth.models import ApiToken, StaffUser
from console.auth.services import (AccountError, acting_user, authenticate, bearer_user, create_token, create_user,
                                   set_active, update_account)
from console.db import utcnow
from tests.conftest import TEST_PASSWORD, AuthActions

NEW_PASSWORD = "a brand new passphrase"


def _entries(console_db, user) -> list[tuple[str, str, dict]]:
    rows = console_db.scalars(select(AuditEntry).where(AuditEntry.subject_type == "user",
                                                       AuditEntry.subject_id == str(user.id),
                                                       AuditEntry.action.like("user.%")).order_by(AuditEntry.seq))
    return [(row.action, row.actor, json.loads(row.details)) for row in rows]


@pytest.mark.parametrize("field, value, action, old", [
    ("email", "renamed@example.com", "user.email_change", "email"),
    ("name", "Renamed Person", "user.name_change", "name"),
    ("team", "billing", "user.team_change", "team"),
    ("role", "lead", "user.role_change", "role"),
])
def test_each_change_writes_one_entry_with_the_old_and_new_value(console_db, make_user, field, value, action, old):
    user = make_user("agent")
    before = getattr(user, old)

    assert update_account(console_db, user, {field: value}, actor="admin@example.com") == [field]

    assert _entries(console_db, user) == [(action, "admin@example.com",
                                           {"email": user.email, "from": before, "to": value})]


def test_an_unchanged_value_writes_nothing(console_db, make_user):
    user = make_user("agent")

    assert update_account(console_db, user, {"name": user.name, "role": "agent", "active": True}, actor="a") == []
    assert _entries(console_db, user) == []


def test_a_new_password_is_audited_without_itself_and_ends_the_users_sessions(app, client, console_db, make_user):
    user = make_user("agent")
    assert AuthActions(client).login(user.email).status_code == 302

    update_account(console_db, user, {"password": NEW_PASSWORD}, actor="admin@example.com")

    assert _entries(console_db, user) == [("user.password_change", "admin@example.com",
                                           {"email": user.email, "change": "password changed"})]
    details = console_db.scalars(select(AuditEntry.details).where(AuditEntry.action == "user.password_change")).one()
    assert NEW_PASSWORD not in details and "argon2" not in details
    assert client.get("/admin/").status_code == 302  # the old cookie is dead
    assert authenticate(console_db, user.email, NEW_PASSWORD) is not None
    assert authenticate(console_db, user.email, TEST_PASSWORD) is None


def test_disabling_revokes_every_token_for_good(client, console_db, make_user):
    user = make_user("agent")
    token = create_token(console_db, user, "script")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/runbooks", headers=bearer).status_code == 200

    set_active(console_db, user, False, actor="admin@example.com")
    set_active(console_db, user, True, actor="admin@example.com")

    assert client.get("/api/v1/runbooks", headers=bearer).status_code == 401
    prefix = console_db.scalars(select(ApiToken.prefix).where(ApiToken.user_id == user.id)).one()
    assert [(action, details) for action, _actor, details in _entries(console_db, user)] == [
        ("user.disable", {"email": user.email, "from": True, "to": False, "tokens_revoked": [prefix]}),
        ("user.enable", {"email": user.email, "from": False, "to": True})]
    fresh = create_token(console_db, user, "new script")
    assert client.get("/api/v1/runbooks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_disabled_user_gets_no_token(console_db, make_user):
    user = make_user("agent", disabled=True)

    with pytest.raises(AccountError, match="disabled"):
        create_token(console_db, user, "script")


@pytest.mark.parametrize("changes, field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": "someone@localhost"}, "email"),
    ({"role": "superuser"}, "role"),
    ({"password": "short"}, "password"),
    ({"team": "  "}, "team"),
    ({"name": "x" * 201}, "name"),
    ({"active": "yes"}, "active"),
    ({"password_hash": "x"}, "password_hash"),
])
def test_a_broken_rule_names_its_field_and_changes_nothing(console_db, make_user, changes, field):
    user = make_user("agent")
    before = (user.email, user.role, user.name, user.team, user.password_hash)

    with pytest.raises(AccountError) as raised:
        update_account(console_db, user, {"name": "Half Written", **changes}, actor="admin@example.com")

    assert raised.value.field == field
    console_db.expire_all()
    user = console_db.get(StaffUser, user.id)
    assert (user.email, user.role, user.name, user.team, user.password_hash) == before
    assert _entries(console_db, user) == []


def test_an_email_taken_by_someone_else_is_refused(console_db, make_user):
    user, other = make_user("agent"), make_user("agent")

    with pytest.raises(AccountError, match="already exists") as raised:
        update_account(console_db, user, {"email": other.email.upper()}, actor="admin@example.com")
    assert raised.value.field == "email"


def test_create_user_normalises_and_validates_the_email_and_requires_a_password(console_db):
    user = create_user(console_db, "  New.Person@Example.COM ", "agent", "long enough password")
    assert user.email == "new.person@example.com"
    for email, password, field in (("not-an-email", "long enough password", "email"),
                                   ("x@example.com", "", "password"), ("x@example.com", None, "password")):
        with pytest.raises(AccountError) as raised:
            create_user(console_db, email, "agent", password)
        assert raised.value.field == field


def test_a_bearer_token_acts_as_its_live_user_with_whoever_issued_it(console_db, make_user):
    user, admin = make_user("agent"), make_user("admin")
    token = create_token(console_db, user, "script", actor=admin)
    conn = console_db.connection()
    acting, issuer = bearer_user(conn, token)
    assert (acting.id, acting.email, acting.role, acting.active, issuer) == (user.id, user.email, "agent", True, admin.id)
    assert bearer_user(conn, "sc_" + "0" * 40) is None and bearer_user(conn, "not-a-token") is None
    user.active = False  # disabled without its tokens revoked (set_active revokes them): still refused
    console_db.flush()
    assert bearer_user(conn, token) is None
    user.active = True
    console_db.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked_at=utcnow()))
    assert bearer_user(conn, token) is None


def test_a_command_acts_as_the_user_of_an_email_whatever_its_case(console_db, make_user):
    user = make_user("lead")
    acting = acting_user(console_db.connection(), user.email.upper())
    assert (acting.id, acting.role, acting.team) == (user.id, "lead", user.team)
    assert acting_user(console_db.connection(), "nobody@example.com") is None
