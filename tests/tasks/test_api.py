"""The tasks and runs API: the documented shapes (docs/API.md), the error format and every status code."""
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from admin_tasks.shop_schema import Refund
from console.tasks.models import TaskRun

RUN_KEYS = {"id", "task", "status", "ticket", "reason", "actor", "params", "changes", "result", "error", "created_at",
            "approved_by"}


def refund(amount=3000, **extra):
    body = {"params": {"order_id": 1004, "amount_cents": amount}, "ticket": "T-1", "reason": "returned an item"}
    body.update(extra)
    return body


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    if code:
        assert error["code"] == code
    return error


# ---- listing ----------------------------------------------------------------------------------

def test_tasks_lists_what_the_caller_may_run_with_a_json_schema(client, api_token):
    _, headers = api_token("agent")
    tasks = {task["name"]: task for task in client.get("/api/v1/tasks", headers=headers).get_json()["tasks"]}
    refund_task = tasks["refund_order"]
    assert {"name", "title", "category", "risk", "description", "params"} <= set(refund_task)
    assert refund_task["risk"] == "medium" and refund_task["risk_rule"]
    Draft202012Validator.check_schema(refund_task["params"])
    assert set(refund_task["params"]["properties"]) == {"order_id", "amount_cents"}
    assert tasks["unlock_account"]["risk"] == "low"


def test_a_tasks_parameters_keep_their_declared_order(client, api_token):
    _, headers = api_token("agent")
    schema = client.get("/api/v1/tasks/update_shipping_address", headers=headers).get_json()["task"]["params"]
    declared = ["order_id", "recipient_name", "line1", "line2", "city", "postcode", "country"]
    assert schema["x-console-order"] == declared and sorted(schema["properties"]) == sorted(declared)
    assert schema["required"] == [name for name in declared if name != "line2"]
    Draft202012Validator.check_schema(schema)


def test_a_role_that_runs_nothing_gets_an_empty_list(client, api_token):
    _, headers = api_token("product_owner")
    assert client.get("/api/v1/tasks", headers=headers).get_json() == {"tasks": []}


def test_no_token_is_a_401_and_a_bad_token_too(client):
    assert_error(client.get("/api/v1/tasks"), 401, "unauthorized")
    assert_error(client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}), 401)


# ---- preview and runs -------------------------------------------------------------------------

def test_preview_answers_the_changes_and_writes_nothing(client, api_token, demo_shop, target_row):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/refund_order/preview", json=refund(), headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    order_change = next(change for change in body["changes"] if change["table"] == "orders")
    assert order_change["before"]["refunded_cents"] == 0 and order_change["after"]["refunded_cents"] == 3000
    assert body["summary"] and body["needs_approval"] is False
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_a_run_is_201_with_the_contract_run(client, api_token, demo_shop, target_row):
    user, headers = api_token("agent")
    response = client.post("/api/v1/tasks/refund_order/runs", json=refund(), headers=headers)
    assert response.status_code == 201
    run = response.get_json()["run"]
    assert RUN_KEYS <= set(run)
    assert (run["status"], run["task"], run["ticket"], run["actor"]) == ("succeeded", "refund_order", "T-1",
                                                                        user.email)
    assert target_row("orders", id=1004)["refunded_cents"] == 3000
    again = client.get(f"/api/v1/runs/{run['id']}", headers=headers).get_json()["run"]
    assert again["id"] == run["id"] and again["status"] == "succeeded"


def test_a_succeeded_run_answers_the_reply_its_page_suggests(client, api_token, demo_shop):
    _, headers = api_token("agent")
    run = client.post("/api/v1/tasks/refund_order/runs", json=refund(), headers=headers).get_json()["run"]
    reply = ("We have refunded EUR 30.00 on your order 1004 to the card you paid with. "
             "Your bank usually shows it within 5 working days.")
    assert run["suggested_reply"] == reply
    assert client.get(f"/api/v1/runs/{run['id']}", headers=headers).get_json()["run"]["suggested_reply"] == reply
    [listed] = client.get("/api/v1/runs?ticket=T-1", headers=headers).get_json()["runs"]
    assert listed["suggested_reply"] == reply


def test_a_run_that_did_not_succeed_suggests_no_reply(client, api_token, demo_shop):
    _, headers = api_token("agent")
    pending = client.post("/api/v1/tasks/refund_order/runs", json=refund(amount=12000), headers=headers)
    assert pending.get_json()["run"]["status"] == "pending_approval"
    assert pending.get_json()["run"]["suggested_reply"] is None
    refused = client.post("/api/v1/tasks/refund_order/runs", json=refund(amount=30000), headers=headers)
    assert refused.status_code == 422 and refused.get_json()["run"]["suggested_reply"] is None


def test_an_idempotency_key_replays_and_a_different_body_conflicts(client, api_token, demo_shop, target_db):
    _, headers = api_token("agent")
    headers = dict(headers, **{"Idempotency-Key": "abc-123"})
    first = client.post("/api/v1/tasks/refund_order/runs", json=refund(), headers=headers)
    second = client.post("/api/v1/tasks/refund_order/runs", json=refund(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["run"]["id"] == second.get_json()["run"]["id"]
    assert target_db.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == 1004)) == 1
    assert_error(client.post("/api/v1/tasks/refund_order/runs", json=refund(amount=10), headers=headers), 409,
                 "conflict")


def test_a_refusal_is_a_422_with_the_refused_run_and_changes_nothing(client, api_token, demo_shop, target_row,
                                                                    console_db):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/refund_order/runs", json=refund(amount=30000), headers=headers)
    error = assert_error(response, 422, "refused")
    assert "EUR 250.00" in error["message"]
    assert response.get_json()["run"]["status"] == "refused"
    assert target_row("orders", id=1004)["refunded_cents"] == 0
    assert console_db.scalar(select(func.count()).select_from(TaskRun)) == 1


def test_a_preview_refusal_is_a_422_with_its_refused_run(client, api_token, demo_shop, console_db):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/refund_order/preview", json=refund(amount=30000), headers=headers)
    assert_error(response, 422, "refused")
    [run] = console_db.scalars(select(TaskRun)).all()
    assert (run.status, run.source) == ("refused", "api")
    assert response.get_json()["run"]["id"] == run.id


@pytest.mark.parametrize("path", ["preview", "runs"])
def test_a_refusal_message_is_masked_as_its_run_is(client, api_token, demo_shop, path):
    """The message repeats the refused run's error, which names the customer: both are masked alike."""
    _, headers = api_token("agent")
    body = {"params": {"email": "alice@example.com"}, "ticket": "T-1", "reason": "Customer cannot log in"}
    for _ in range(2):  # the second answer replays the first run's
        response = client.post(f"/api/v1/tasks/unlock_account/{path}", json=body,
                               headers=dict(headers, **{"Idempotency-Key": f"mask-{path}"}))
        error = assert_error(response, 422, "refused")
        assert "is not locked" in error["message"] and "alice@example.com" not in error["message"]
        assert error["message"] == response.get_json()["run"]["error"]


def test_missing_ticket_and_reason_are_a_400_naming_both(client, api_token, demo_shop):
    _, headers = api_token("agent")
    body = {"params": {"order_id": 1004, "amount_cents": 3000}}
    error = assert_error(client.post("/api/v1/tasks/refund_order/runs", json=body, headers=headers), 400)
    assert {"ticket", "reason"} <= set(error["fields"])


@pytest.mark.parametrize("body, field", [
    ({"params": {"order_id": 1004, "amount_cents": 10**30}, "ticket": "T", "reason": "r"}, "amount_cents"),
    ({"params": {"order_id": "x", "amount_cents": 1}, "ticket": "T", "reason": "r"}, "order_id"),
    ({"params": {"order_id": 1004, "amount_cents": 1.5}, "ticket": "T", "reason": "r"}, "amount_cents"),
    ({"params": {"order_id": [1004], "amount_cents": {"a": 1}}, "ticket": "T", "reason": "r"}, "order_id"),
    ({"params": {"order_id": 1004, "amount_cents": 1, "extra": 1}, "ticket": "T", "reason": "r"}, "extra"),
    ({"params": [1004, 1], "ticket": "T", "reason": "r"}, "params"),
    ({"params": {"order_id": 1004, "amount_cents": 1}, "ticket": 5, "reason": "r"}, "ticket"),
    ({"params": {"order_id": 1004, "amount_cents": 1}, "ticket": "T", "reason": ["r"]}, "reason"),
])
def test_wrong_types_are_a_400_naming_the_field(client, api_token, demo_shop, target_row, body, field):
    _, headers = api_token("agent")
    for action in ("preview", "runs"):
        error = assert_error(client.post(f"/api/v1/tasks/refund_order/{action}", json=body, headers=headers), 400)
        assert field in error["fields"]
    assert target_row("orders", id=1004)["refunded_cents"] == 0


@pytest.mark.parametrize("data", ["[]", '"text"', "5", "null", "{not json", "1e999999"])
def test_a_body_that_is_not_a_json_object_is_a_400(client, api_token, data):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/refund_order/runs", data=data,
                           headers=dict(headers, **{"Content-Type": "application/json"}))
    assert_error(response, 400)


def test_unknown_task_is_404_and_a_forbidden_role_403(client, api_token):
    _, agent = api_token("agent")
    _, developer = api_token("developer")
    assert_error(client.post("/api/v1/tasks/nope/runs", json=refund(), headers=agent), 404, "not_found")
    assert_error(client.post("/api/v1/tasks/refund_order/runs", json=refund(), headers=developer), 403, "forbidden")
    assert_error(client.post("/api/v1/tasks/refund_order/preview", json=refund(), headers=developer), 403)


def test_unknown_run_is_404(client, api_token):
    _, headers = api_token("lead")
    assert_error(client.get("/api/v1/runs/987654", headers=headers), 404)
    assert_error(client.post("/api/v1/runs/987654/approve", json={"reason": "r"}, headers=headers), 404)


# ---- approval and undo ------------------------------------------------------------------------

def big_refund(client, headers) -> dict:
    response = client.post("/api/v1/tasks/refund_order/runs", json=refund(amount=20000), headers=headers)
    assert response.status_code == 201
    run = response.get_json()["run"]
    assert run["status"] == "pending_approval"
    return run


def test_the_requester_gets_403_and_a_lead_approves(client, api_token, demo_shop, target_row):
    _, agent = api_token("agent")
    _, lead = api_token("lead")
    run = big_refund(client, agent)
    assert_error(client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "mine"}, headers=agent), 403)
    assert target_row("orders", id=1004)["refunded_cents"] == 0
    approved = client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "return checked"}, headers=lead)
    assert approved.status_code == 200
    assert approved.get_json()["run"]["status"] == "succeeded" and approved.get_json()["run"]["approved_by"]
    assert target_row("orders", id=1004)["refunded_cents"] == 20000
    assert_error(client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "again"}, headers=lead), 409)
    assert_error(client.post(f"/api/v1/runs/{run['id']}/reject", json={"reason": "late"}, headers=lead), 409)


def test_a_lead_approving_their_own_run_gets_403(client, api_token, demo_shop):
    _, lead = api_token("lead")
    run = big_refund(client, lead)
    assert_error(client.post(f"/api/v1/runs/{run['id']}/approve", json={"reason": "mine"}, headers=lead), 403)


def test_reject_records_the_decision(client, api_token, demo_shop, target_row):
    _, agent = api_token("agent")
    lead_user, lead = api_token("lead")
    run = big_refund(client, agent)
    assert_error(client.post(f"/api/v1/runs/{run['id']}/reject", json={"reason": 7}, headers=lead), 400)
    rejected = client.post(f"/api/v1/runs/{run['id']}/reject", json={"reason": "no return"}, headers=lead)
    assert rejected.status_code == 200
    assert rejected.get_json()["run"]["status"] == "rejected"
    assert rejected.get_json()["run"]["approved_by"] == lead_user.email
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_undo_is_for_leads_and_restores_the_row(client, api_token, demo_shop, target_row):
    _, agent = api_token("agent")
    _, lead = api_token("lead")
    body = {"params": {"email": "locked@example.com"}, "ticket": "T-5", "reason": "verified by phone"}
    run = client.post("/api/v1/tasks/unlock_account/runs", json=body, headers=agent).get_json()["run"]
    assert target_row("customers", email="locked@example.com")["status"] == "active"
    assert_error(client.post(f"/api/v1/runs/{run['id']}/undo", json={"reason": "oops"}, headers=agent), 403)
    undone = client.post(f"/api/v1/runs/{run['id']}/undo", json={"reason": "wrong account"}, headers=lead)
    assert undone.status_code == 201
    assert undone.get_json()["run"]["undo_of"] == run["id"] and undone.get_json()["run"]["ticket"] == "T-5"
    assert target_row("customers", email="locked@example.com")["status"] == "locked"
    assert_error(client.post(f"/api/v1/runs/{run['id']}/undo", json={"reason": "twice"}, headers=lead), 409)


def test_runs_list_filters_by_ticket_and_task(client, api_token, demo_shop):
    _, headers = api_token("agent")
    first = client.post("/api/v1/tasks/refund_order/runs", json=refund(ticket="T-A"), headers=headers)
    client.post("/api/v1/tasks/refund_order/runs", json=refund(amount=100, ticket="T-B"), headers=headers)
    listed = client.get("/api/v1/runs?ticket=T-A", headers=headers).get_json()["runs"]
    assert [run["id"] for run in listed] == [first.get_json()["run"]["id"]]
    assert len(client.get("/api/v1/runs?task=refund_order&limit=1", headers=headers).get_json()["runs"]) == 1
    assert_error(client.get("/api/v1/runs?limit=0", headers=headers), 400)
    assert_error(client.get("/api/v1/runs?limit=99999999999999999999", headers=headers), 400)


# ---- the browser's session ----------------------------------------------------------------------

def test_a_session_call_needs_the_csrf_header(client, login_as, auth, demo_shop, console_db):
    login_as("agent")
    assert_error(client.post("/api/v1/tasks/refund_order/runs", json=refund()), 400, "csrf")
    assert console_db.scalar(select(func.count()).select_from(TaskRun)) == 0
    response = client.post("/api/v1/tasks/refund_order/runs", json=refund(), headers={"X-CSRFToken": auth.csrf()})
    assert response.status_code == 201
