"""What others (and the requester) see of previews and runs: the shop's personal data masked, typed values whole."""
import json

import pytest

from tests.tasks.test_views import colleague  # noqa: F401 (a fixture, used by name)
from tests.tasks.test_views import REFUND, confirm, form_post, preview_refund, run_id_from

ALICE, ALICE_MASKED = "alice@example.com", "al•••e@e•••.com"
OLD_ADDRESS = ("Alice Example", "Lindenstr. 12", "10115")  # order 1001's shipment, as the shop holds it
NEW_ADDRESS = {"order_id": 1001, "recipient_name": "Bob Builder", "line1": "Kastanienallee 5", "city": "Hamburg",
               "postcode": "20095", "country": "DE"}
SHIPPED = {"order_id": 1002}
ADDRESS_TASK, NOTIFY_TASK = "/admin/tasks/update_shipping_address/", "/admin/tasks/resend_shipping_notification/"


def body(params, ticket="T-PII"):
    return {"params": params, "ticket": ticket, "reason": "customer asked"}


def assert_no_shop_data(text: str, where: str):
    assert ALICE not in text, f"{where} shows the customer's email"
    for value in OLD_ADDRESS:
        assert value not in text, f"{where} shows {value!r} from the shop"


# ---- previews -------------------------------------------------------------------------------------

def test_an_api_preview_masks_the_email_read_from_the_shop(client, api_token, demo_shop):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/resend_shipping_notification/preview", json=body(SHIPPED),
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert_no_shop_data(text, "the preview")
    preview = response.get_json()
    assert ALICE_MASKED in preview["summary"] and any(ALICE_MASKED in line for line in preview["effects"])


def test_an_api_preview_shows_the_typed_address_and_masks_the_old_one(client, api_token, demo_shop):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/update_shipping_address/preview", json=body(NEW_ADDRESS), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_no_shop_data(response.get_data(as_text=True), "the preview")
    shipment = next(c for c in response.get_json()["changes"] if c["table"] == "shipments")
    assert shipment["before"]["line1"] == "L•••" and shipment["before"]["recipient_name"] == "A••• E•••"
    assert shipment["before"]["postcode"] == "10•••"
    assert shipment["after"]["line1"] == "Kastanienallee 5" and shipment["after"]["recipient_name"] == "Bob Builder"
    assert shipment["after"]["postcode"] == "20095"


def test_the_preview_page_shows_the_typed_address_and_masks_the_shop_data(client, login_as, demo_shop):
    login_as("agent")
    form = {key: str(value) for key, value in NEW_ADDRESS.items()}
    html = form_post(client, ADDRESS_TASK, {"action": "preview", "ticket": "T-PII", "reason": "customer asked",
                                            **form}).get_data(as_text=True)
    assert "Kastanienallee 5" in html and "Bob Builder" in html and "L•••" in html
    assert_no_shop_data(html, "the preview page")
    html = form_post(client, NOTIFY_TASK, {"action": "preview", "ticket": "T-PII", "reason": "customer asked",
                                           "order_id": "1002"}).get_data(as_text=True)
    assert "JJD000390007123456" in html  # not personal: the tracking number stays readable
    assert ALICE_MASKED in html
    assert_no_shop_data(html, "the preview page")


# ---- runs, as anyone reads them ---------------------------------------------------------------------

@pytest.fixture
def runs_about_alice(client, api_token):
    """Three runs on Alice's orders by an agent: a resent email, a new address and a refund awaiting approval."""
    _, headers = api_token("agent")
    ids = []
    for name, params in (("resend_shipping_notification", SHIPPED), ("update_shipping_address", NEW_ADDRESS),
                         ("refund_order", {"order_id": 1004, "amount_cents": 12000})):
        response = client.post(f"/api/v1/tasks/{name}/runs", json=body(params), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["run"]["id"])
    return ids


@pytest.mark.parametrize("role", ["agent", "lead", "developer"])
def test_the_runs_api_masks_the_customer_for_every_role(client, api_token, demo_shop, runs_about_alice, role):
    _, headers = api_token(role)
    listed = client.get("/api/v1/runs", headers=headers)
    assert listed.status_code == 200
    assert [run["id"] for run in listed.get_json()["runs"]] == runs_about_alice[::-1]
    assert_no_shop_data(listed.get_data(as_text=True), "GET /api/v1/runs")
    for run_id in runs_about_alice:
        one = client.get(f"/api/v1/runs/{run_id}", headers=headers)
        assert_no_shop_data(one.get_data(as_text=True), f"GET /api/v1/runs/{run_id}")
    resent = client.get(f"/api/v1/runs/{runs_about_alice[0]}", headers=headers).get_json()["run"]
    assert resent["customer"] == ALICE_MASKED and resent["effects"][0]["to"] == ALICE_MASKED
    assert ALICE_MASKED in resent["result"] and "JJD000390007123456" in resent["result"]
    moved = client.get(f"/api/v1/runs/{runs_about_alice[1]}", headers=headers).get_json()["run"]
    assert moved["params"]["line1"] == "K•••" and moved["params"]["order_id"] == 1001  # not typed by this reader
    assert "Kastanienallee 5" not in json.dumps(moved)


@pytest.mark.parametrize("role", ["agent", "lead", "developer"])
def test_run_pages_and_the_approval_queue_mask_the_customer(client, api_token, demo_shop, runs_about_alice,
                                                            colleague, role):
    reader = colleague(role)
    pages = [f"/admin/runs/{run_id}" for run_id in runs_about_alice] + ["/admin/runs/", "/admin/"]
    if role == "lead":
        pages.append("/admin/approvals/")
    for page in pages:
        response = reader.get(page)
        assert response.status_code == 200, page
        assert_no_shop_data(response.get_data(as_text=True), page)


def test_a_refused_run_answers_masked_too(client, api_token, demo_shop):
    _, headers = api_token("agent")
    response = client.post("/api/v1/tasks/resend_shipping_notification/runs", json=body({"order_id": 1001}),
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["run"]["status"] == "refused"
    assert_no_shop_data(response.get_data(as_text=True), "the refused run")


# ---- GET /api/v1/runs: filters and pages ------------------------------------------------------------

def test_the_runs_list_filters_by_customer_order_actor_and_status(client, api_token, demo_shop, runs_about_alice):
    agent, _ = api_token("agent")
    _, headers = api_token("lead")
    resent, moved, refund = runs_about_alice

    def ids(query):
        response = client.get(f"/api/v1/runs?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [run["id"] for run in response.get_json()["runs"]]

    assert ids("order=1001") == [moved]
    assert ids("status=pending_approval") == [refund]
    assert ids("customer=ALICE@example.com") == [refund, moved, resent]  # emails compare in lower case
    assert ids("task=refund_order&ticket=T-PII") == [refund]
    assert ids(f"actor={agent.email}") == []  # another agent's token made them
    assert ids(f"before={refund}&limit=1") == [moved]
    assert ids(f"before={moved}") == [resent]


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=201", "limit"), ("before=x", "before"),
                                          ("order=-1", "order"), ("status=done", "status")])
def test_bad_runs_list_arguments_are_400s_naming_the_field(client, api_token, query, field):
    _, headers = api_token("lead")
    response = client.get(f"/api/v1/runs?{query}", headers=headers)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_a_product_owner_may_not_list_runs(client, api_token):
    _, headers = api_token("product_owner")
    assert client.get("/api/v1/runs", headers=headers).status_code == 403


def test_a_runs_record_and_its_key_are_in_the_api_the_key_masked_as_its_parameter(client, api_token, demo_shop):
    """unlock_account is offered on customers and filled with their email: the run's record key is that email,
    masked as the parameter is, for every reader; a run on an order keeps its plain number."""
    _, headers = api_token("agent")
    unlocked = client.post("/api/v1/tasks/unlock_account/runs", json=body({"email": "locked@example.com"}),
                           headers=headers).get_json()["run"]
    resent = client.post("/api/v1/tasks/resend_shipping_notification/runs", json=body(SHIPPED),
                         headers=headers).get_json()["run"]
    assert (unlocked["record"], unlocked["record_key"]) == ("customers", "lo•••d@e•••.com")
    assert (resent["record"], resent["record_key"]) == ("orders", "1002")
    on_record = client.get("/api/v1/runs?record=customers&record_key=locked@example.com", headers=headers)
    assert [run["id"] for run in on_record.get_json()["runs"]] == [unlocked["id"]]
    assert "locked@example.com" not in on_record.get_data(as_text=True)
    assert [run["id"] for run in client.get("/api/v1/runs?record=orders", headers=headers).get_json()["runs"]] == [
        resent["id"]]
