"""Four-eyes compares people: no rename of one's account and no token issued for someone else
lets anyone decide a run they requested (through the real admin forms, with CSRF, and the API)."""
import json
import re
import threading

from sqlalchemy import func, insert, select

from admin_tasks.shop_schema import Refund
from console.audit.models import AuditEntry
from console.auth.models import ApiToken, StaffUser
from console.auth.services import create_token
from console.db import console_session, expect_writes, utcnow
from console.tasks.models import TaskRun
from console.tasks.runner import RunRequest, TaskError, approve_run, start_run
from tests.committed import make_committed_user
from tests.conftest import csrf_token_from

REFUND = {"params": {"order_id": 1004, "amount_cents": 20000}, "ticket": "T-4EYES", "reason": "returned the set"}


def _request_refund(client, headers) -> dict:
    response = client.post("/api/v1/tasks/refund_order/runs", json=REFUND, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    run = response.get_json()["run"]
    assert run["status"] == "pending_approval"
    return run


def _edit_staff(client, user: StaffUser, **changes):
    """Save the user's Admin › Staff users form, as an admin's browser does."""
    url = f"/admin/staff_users/edit/?id={user.id}"
    form = {"email": user.email, "name": user.name, "role": user.role, "team": user.team, "active": "y",
            "csrf_token": csrf_token_from(client.get(url).get_data(as_text=True)), **changes}
    return client.post(url, data=form)


def _issue_token(client, email: str) -> str:
    """Issue a token through Admin › API tokens; return it."""
    page = client.get("/admin/api_tokens/issue/").get_data(as_text=True)
    response = client.post("/admin/api_tokens/issue/", data={"email": email, "name": "four-eyes",
                                                               "csrf_token": csrf_token_from(page)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.search(r'id="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)


def _decide_on_the_page(client, auth, run_id: int, verb: str):
    return client.post(f"/admin/runs/{run_id}/{verb}",
                       data={"reason": "looks right", "csrf_token": auth.csrf(f"/admin/runs/{run_id}")})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_renamed_twice_still_cannot_approve_their_own_run(client, auth, login_as, console_db, demo_shop,
                                                                    target_row):
    admin = login_as("admin")
    first_email = admin.email
    run = _request_refund(client, {"X-CSRFToken": auth.csrf()})

    assert _edit_staff(client, admin, email="someone.else@example.com").status_code == 302
    page = _decide_on_the_page(client, auth, run["id"], "approve")
    console_db.expire_all()
    api = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "fine"},
                      headers=_bearer(create_token(console_db, admin)))
    assert _edit_staff(client, admin, email=first_email).status_code == 302

    assert page.status_code == 403 and "your own run" in page.get_data(as_text=True)
    assert api.status_code == 403 and "your own run" in api.get_json()["error"]["message"]
    assert console_db.get(TaskRun, run["id"]).status == "pending_approval"
    assert target_row("orders", id=1004)["refunded_cents"] == 0
    renames = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "user.email_change",
                                                          AuditEntry.subject_id == str(admin.id))
                                 .order_by(AuditEntry.seq)).all()
    assert [(json.loads(e.details)["from"], json.loads(e.details)["to"], e.actor) for e in renames] == [
        (first_email, "someone.else@example.com", first_email),
        ("someone.else@example.com", first_email, "someone.else@example.com")]


def test_a_run_requested_with_a_token_one_issued_counts_as_ones_own(client, auth, login_as, make_user, api_token,
                                                                    console_db, demo_shop, target_row):
    lead2 = make_user("lead")
    admin = login_as("admin")
    token = _issue_token(client, lead2.email)
    run = _request_refund(client, _bearer(token))
    stored = console_db.get(TaskRun, run["id"])
    assert (stored.actor, stored.actor_id, stored.token_issuer_id) == (lead2.email, lead2.id, admin.id)
    assert console_db.scalars(select(ApiToken.issued_by_id).where(ApiToken.user_id == lead2.id)).one() == admin.id

    for verb in ("approve", "reject"):
        page = _decide_on_the_page(client, auth, run["id"], verb)
        assert page.status_code == 403 and "API token you issued" in page.get_data(as_text=True)
    own_token = create_token(console_db, admin)
    by_issuer = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "ok"}, headers=_bearer(own_token))
    by_user = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "ok"}, headers=_bearer(token))
    assert (by_issuer.status_code, by_user.status_code) == (403, 403)
    assert target_row("orders", id=1004)["refunded_cents"] == 0

    lead, lead_headers = api_token("lead")
    approved = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "checked"}, headers=lead_headers)
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["run"]["status"] == "succeeded"
    assert approved.get_json()["run"]["approved_by"] == lead.email
    assert target_row("orders", id=1004)["refunded_cents"] == 20000


def test_a_token_issued_by_the_requester_cannot_approve_their_run(client, auth, login_as, make_user, console_db,
                                                                  demo_shop, target_row):
    lead2 = make_user("lead")
    login_as("admin")
    run = _request_refund(client, {"X-CSRFToken": auth.csrf()})
    token = _issue_token(client, lead2.email)

    refused = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "ok"}, headers=_bearer(token))

    assert refused.status_code == 403 and "was issued by" in refused.get_json()["error"]["message"]
    assert target_row("orders", id=1004)["refunded_cents"] == 0
    own = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "ok"},
                      headers=_bearer(create_token(console_db, lead2)))
    assert own.status_code == 200 and own.get_json()["run"]["status"] == "succeeded"


def test_a_run_from_before_ids_were_kept_falls_back_to_its_emails_staff_row(client, make_user, api_token,
                                                                            console_db):
    lead, lead_headers = api_token("lead")
    _other, other_headers = api_token("lead")
    known = TaskRun(task="refund_order", status="pending_approval", ticket="T-OLD", reason="old", actor=lead.email,
                    risk="high", params=json.dumps({"order_id": 1004, "amount_cents": 20000}))
    unknown = TaskRun(task="refund_order", status="pending_approval", ticket="T-OLD", reason="old",
                      actor="gone@example.com", risk="high", params=json.dumps({"order_id": 1004}))
    console_db.add_all([known, unknown])
    console_db.flush()

    own = client.post(f"/api/v1/runs/{known.id}/approve", json={"reason": "ok"}, headers=lead_headers)
    nobody = client.post(f"/api/v1/runs/{unknown.id}/approve", json={"reason": "ok"}, headers=other_headers)
    rejected = client.post(f"/api/v1/runs/{unknown.id}/reject", json={"reason": "who asked?"}, headers=other_headers)

    assert own.status_code == 403 and "your own run" in own.get_json()["error"]["message"]
    assert nobody.status_code == 403 and "no staff user matches" in nobody.get_json()["error"]["message"]
    assert rejected.status_code == 200 and rejected.get_json()["run"]["status"] == "rejected"


def test_the_run_page_offers_no_decision_to_the_tokens_issuer(client, auth, login_as, make_user, demo_shop):
    lead2 = make_user("lead")
    login_as("admin")
    run = _request_refund(client, _bearer(_issue_token(client, lead2.email)))

    html = client.get(f"/admin/runs/{run['id']}").get_data(as_text=True)

    assert f'action="/admin/runs/{run["id"]}/approve"' not in html and "You requested this run" in html


def test_racing_approvals_execute_once_and_never_for_the_requester(isolated_app):
    from admin_tasks.shop.demo_named import named_rows

    app = isolated_app()
    with app.extensions["console_db"].target_engine.begin() as conn:
        for model, values in named_rows(utcnow()):
            conn.execute(insert(model.__table__).values(values))
    requester = make_committed_user(app, "lead")
    deciders = [requester, make_committed_user(app, "lead"), make_committed_user(app, "admin"), requester]
    with app.app_context():
        actor = console_session().scalar(select(StaffUser).where(StaffUser.email == requester))
        run_id = start_run(RunRequest(task="refund_order", params=dict(REFUND["params"]), ticket="T-RACE",
                                      reason="returned", actor=actor, source="cli")).id
    barrier = threading.Barrier(len(deciders))
    outcomes: list = [None] * len(deciders)

    def decide(index: int, email: str):
        try:
            with app.app_context():
                person = console_session().scalar(select(StaffUser).where(StaffUser.email == email))
                console_session().commit()
                expect_writes()
                barrier.wait(60)
                try:
                    outcomes[index] = approve_run(run_id, person, "checked").status
                except TaskError as exc:
                    outcomes[index] = exc.status
        except Exception as exc:  # anything else would be a 500
            outcomes[index] = f"crash {exc!r}"

    threads = [threading.Thread(target=decide, args=(i, email)) for i, email in enumerate(deciders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert outcomes[0] == outcomes[3] == 403
    assert sorted(outcomes[1:3], key=str) == sorted([409, "succeeded"], key=str)
    with app.app_context():
        refunds = app.extensions["console_db"].target_factory().scalar(select(func.count()).select_from(Refund))
        assert refunds == 1
        run = console_session().get(TaskRun, run_id)
        assert run.status == "succeeded" and run.approved_by != requester
