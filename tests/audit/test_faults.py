"""Fail closed: when the audit store cannot be written, nothing that needed the audit happens."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from console.audit.chain import AuditUnavailable, record_event
from console.auth.models import StaffUser
from console.auth.services import create_user
from console.engines import make_engine
from tests.committed import make_committed_user
from tests.conftest import TEST_PASSWORD, csrf_token_from


def read_only_engine(url: str):
    """An engine on the same console database whose connections cannot write."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return make_engine(f"sqlite:///file:{parsed.database}?mode=ro&uri=true")
    return make_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def test_a_read_only_store_raises_audit_unavailable(trail):
    made = trail()
    made.record(2)
    engine = read_only_engine(made.app.config["CONSOLE_DATABASE_URL"])
    session = sessionmaker(bind=engine, info={"console_config": made.app.config})()
    try:
        with pytest.raises(AuditUnavailable, match="could not be written"):
            record_event(session, actor="agent@example.com", action="task.run", reason="while read-only")
    finally:
        session.close()
        engine.dispose()
    assert made.count() == 2
    assert made.verify()[0] == 0


def test_a_missing_table_refuses_the_change_that_needed_the_audit(trail):
    made = trail()
    made.sql("ALTER TABLE audit_entries RENAME TO audit_entries_gone")
    session = made.dbs.console_factory()
    try:
        with pytest.raises(AuditUnavailable):
            create_user(session, "new.lead@example.com", "lead", "a long enough password", actor="admin@example.com")
    finally:
        session.close()
    with made.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(StaffUser).where(
            StaffUser.email == "new.lead@example.com")) == 0


def broken_client(made, role: str = "lead"):
    """A client logged in while the audit worked; then the audit table goes away."""
    email = make_committed_user(made.app, role)
    client = made.app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    made.sql("ALTER TABLE audit_entries RENAME TO audit_entries_gone")
    return client


def test_a_failed_login_that_cannot_be_audited_is_a_clear_503(trail):
    made = trail()
    client = made.app.test_client()
    made.sql("ALTER TABLE audit_entries RENAME TO audit_entries_gone")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "nobody@example.com", "password": "wrong password!",
                                           "csrf_token": token})
    assert response.status_code == 503
    assert "the audit trail cannot be written" in response.get_data(as_text=True)


def test_an_export_that_cannot_be_audited_is_refused(trail):
    made = trail()
    client = broken_client(made)
    response = client.get("/admin/audit/export.csv")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "seq,created_at" not in response.get_data(as_text=True)


def test_the_api_answers_503_in_its_own_error_format(trail):
    from flask import Flask

    made = trail()
    app: Flask = made.app

    @app.get("/api/v1/_audit_fault_probe")
    def probe():  # a write path of the API, reduced to its audit call
        from console.db import console_session

        record_event(console_session(), actor="probe", action="probe")
        return {"ok": True}

    made.sql("ALTER TABLE audit_entries RENAME TO audit_entries_gone")
    response = app.test_client().get("/api/v1/_audit_fault_probe")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "audit_unavailable"
