"""The task pages: catalog, form, preview -> confirm, and run history (deciding on runs: test_views_decisions.py)."""
import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from admin_tasks.shop_schema import Refund
from console.audit.models import AuditEntry
from console.tasks.models import TaskRun
from tests.conftest import AuthActions, csrf_token_from

REFUND = "/admin/tasks/refund_order/"


@pytest.fixture
def colleague(app, dbs, make_user):
    """Another browser, logged in as a new user of the role."""

    def login(role: str):
        other = app.test_client()
        response = AuthActions(other).login(make_user(role).email)
        assert response.status_code == 302
        return other

    return login


def form_post(client, path, data, *, token=True):
    """POST a page form, with the CSRF token from the page unless told otherwise."""
    if token:
        data = dict(data, csrf_token=csrf_token_from(client.get("/admin/").get_data(as_text=True)))
    return client.post(path, data=data)


def confirmation(html: str) -> str:
    match = re.search(r'name="confirmation" value="([^"]+)"', html)
    assert match, "no confirmation token on the preview"
    return match.group(1)


def preview_refund(client, amount="30.00", **extra):
    """Preview a refund of order 1004, the amount typed in euros as a person types it."""
    data = {"action": "preview", "order_id": "1004", "amount_cents": amount, "ticket": "T-1",
            "reason": "customer returned an item"}
    data.update(extra)
    return form_post(client, REFUND, data)


def confirm(client, path, html):
    return form_post(client, path, {"action": "confirm", "confirmation": confirmation(html)})


def run_id_from(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


# ---- catalog --------------------------------------------------------------------------------

def test_catalog_groups_the_tasks_an_agent_may_run(client, login_as):
    login_as("agent")
    html = client.get("/admin/tasks/").get_data(as_text=True)
    assert ">Orders</h2>" in html and ">Accounts</h2>" in html
    assert 'href="/admin/tasks/refund_order/"' in html
    assert 'href="/admin/tasks/unlock_account/"' in html


@pytest.mark.parametrize("role", ["product_owner", "developer"])
def test_roles_that_cannot_run_tasks_get_no_catalog_and_no_form(client, login_as, role):
    login_as(role)
    assert client.get("/admin/tasks/").status_code == 403
    assert client.get(REFUND).status_code == 403


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(REFUND)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_search_keeps_matching_tasks_and_escapes_the_query(client, login_as):
    login_as("agent")
    html = client.get("/admin/tasks/?q=refund").get_data(as_text=True)
    assert "refund_order" in html and "unlock_account" not in html
    html = client.get("/admin/tasks/?q=<script>x</script>").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "No task matches" in html


# ---- the task form ----------------------------------------------------------------------------

def test_form_has_labelled_fields_and_is_prefilled_from_the_query(app, client, login_as):
    login_as("agent")
    with app.test_request_context():
        path = url_for("tasks.task_form", name="refund_order", ticket="T-9", order_id=1004, amount_cents=3000)
    html = client.get(path).get_data(as_text=True)
    for name in ("order_id", "amount_cents", "ticket", "reason"):
        assert f'<label for="{name}"' in html
    assert re.search(r'id="order_id"[^>]*value="1004"|value="1004"[^>]*id="order_id"', html)
    assert re.search(r'id="ticket"[^>]*value="T-9"', html)
    # A link names the amount as the API does, in cents; the box shows it in euros, the currency beside it.
    assert re.search(r'id="amount_cents"[^>]*value="30.00"', html)
    assert '<span class="input-group-text" id="amount_cents-currency">EUR</span>' in html
    assert re.search(r'aria-describedby="amount_cents-currency[^"]*"[^>]*id="amount_cents"', html)


def test_ticket_defaults_to_the_current_ticket_of_the_session(client, login_as):
    login_as("agent")
    with client.session_transaction() as session:
        session["ticket_ref"] = "T-77"
    assert re.search(r'id="ticket"[^>]*value="T-77"', client.get(REFUND).get_data(as_text=True))


def test_unknown_task_is_a_404(client, login_as):
    login_as("agent")
    assert client.get("/admin/tasks/no_such_task/").status_code == 404


def test_missing_ticket_and_reason_are_named_next_to_their_fields(client, login_as, demo_shop):
    login_as("agent")
    response = preview_refund(client, ticket="", reason="")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="ticket-error"' in html and 'id="reason-error"' in html


def test_a_bad_value_is_named_next_to_its_field(client, login_as, demo_shop):
    login_as("agent")
    response = preview_refund(client, amount="lots")
    assert response.status_code == 400
    assert 'id="amount_cents-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("typed, message", [
    ("30.001", "Amount to refund may have at most 2 decimals in EUR"),
    ("-5", "Amount to refund cannot be negative"),
    ("30,5", "Amount to refund is not an amount in EUR; write it like 250.00"),
    ("0.00", "Amount to refund must be at least EUR 0.01"),
])
def test_a_bad_amount_is_refused_naming_the_field(client, login_as, demo_shop, target_row, typed, message):
    login_as("agent")
    response = preview_refund(client, amount=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="amount_cents-error"[^>]*>' + re.escape(message) + "<", html), html[-3000:]
    assert target_row("orders", id=1004)["refunded_cents"] == 0


@pytest.mark.parametrize("typed, cents", [("25", 2500), ("25.5", 2550), ("25.00", 2500), ("EUR 0.07", 7)])
def test_an_amount_is_typed_in_euros(client, login_as, demo_shop, target_row, typed, cents):
    login_as("agent")
    html = preview_refund(client, amount=typed).get_data(as_text=True)
    shown = f"EUR {cents // 100}.{cents % 100:02d}"
    assert re.search(r"<th scope=\"row\">Amount to refund</th><td>" + shown + "</td>", html), html[-3000:]
    assert f'class="diff-after">{shown}' in html
    # The confirmation carries cents: confirming refunds exactly what the preview showed.
    assert run_id_from(confirm(client, REFUND, html))
    assert target_row("orders", id=1004)["refunded_cents"] == cents


def test_a_refusal_at_preview_says_why_and_changes_nothing(client, login_as, demo_shop, target_row):
    login_as("agent")
    response = preview_refund(client, amount="300.00")
    assert response.status_code == 422
    assert "only EUR 250.00 left to refund, not EUR 300.00" in response.get_data(as_text=True)
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_a_refused_preview_is_one_refused_run_however_often_the_page_is_posted(client, login_as, demo_shop,
                                                                              console_db):
    login_as("agent")
    form = client.get("/admin/tasks/refund_order/").get_data(as_text=True)
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', form).group(1)

    first = preview_refund(client, amount="300.00", request_key=key)
    reloaded = preview_refund(client, amount="300.00", request_key=key)

    assert first.status_code == reloaded.status_code == 422
    [run] = console_db.scalars(select(TaskRun)).all()
    assert (run.status, run.source, run.task) == ("refused", "web", "refund_order") and "EUR 250.00" in run.error
    assert f"run {run.id}" in reloaded.get_data(as_text=True)
    assert console_db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.subject_type == "task_run", AuditEntry.subject_id == str(run.id))) == 1
    # The page shown after the refusal is a new request: posting it records the next refusal.
    fresh_key = re.search(r'name="request_key" value="([0-9a-f]{32})"', first.get_data(as_text=True)).group(1)
    assert fresh_key != key


# ---- preview -> confirm -----------------------------------------------------------------------

def test_preview_shows_the_diff_and_confirm_runs_it(client, login_as, demo_shop, target_row, console_db):
    login_as("agent")
    preview = preview_refund(client)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "refunded_cents" in html and 'class="diff-after">EUR 30.00' in html
    assert "refund_issued" in html  # the email is listed as an effect
    assert "Confirm and run" in html
    assert target_row("orders", id=1004)["refunded_cents"] == 0  # the preview wrote nothing

    run_id = run_id_from(confirm(client, REFUND, html))
    assert target_row("orders", id=1004)["refunded_cents"] == 3000
    page = client.get(f"/admin/runs/{run_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "succeeded" in text
    assert 'id="audit"' in text and "T-1" in text
    entries = console_db.scalars(select(AuditEntry).where(AuditEntry.subject_type == "task_run",
                                                          AuditEntry.subject_id == str(run_id))).all()
    assert entries and all(f'id="audit-{entry.seq}"' in text for entry in entries)


def test_confirming_twice_runs_once(client, login_as, demo_shop, target_db):
    login_as("agent")
    html = preview_refund(client).get_data(as_text=True)
    first = run_id_from(confirm(client, REFUND, html))
    second = run_id_from(confirm(client, REFUND, html))
    assert first == second
    assert target_db.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == 1004)) == 1


def test_a_tampered_confirmation_is_refused(client, login_as, demo_shop, target_row):
    login_as("agent")
    token = confirmation(preview_refund(client).get_data(as_text=True))
    response = form_post(client, REFUND, {"action": "confirm", "confirmation": token[:-3] + "abc"})
    assert response.status_code == 400 and "expired or was altered" in response.get_data(as_text=True)
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_a_confirmation_is_bound_to_the_user_who_previewed(client, login_as, colleague, demo_shop, target_row):
    login_as("agent")
    token = confirmation(preview_refund(client).get_data(as_text=True))
    response = form_post(colleague("agent"), REFUND, {"action": "confirm", "confirmation": token})
    assert response.status_code == 400
    assert target_row("orders", id=1004)["refunded_cents"] == 0


def test_change_the_values_brings_the_form_back_filled(client, login_as, demo_shop):
    login_as("agent")
    token = confirmation(preview_refund(client).get_data(as_text=True))
    html = form_post(client, REFUND, {"action": "edit", "confirmation": token}).get_data(as_text=True)
    assert re.search(r'value="30.00"', html) and "customer returned an item" in html


@pytest.mark.parametrize("action", ["preview", "confirm", "edit"])
def test_every_task_form_post_needs_the_csrf_token(client, login_as, demo_shop, target_row, action):
    login_as("agent")
    token = confirmation(preview_refund(client).get_data(as_text=True))
    data = {"action": action, "confirmation": token, "order_id": "1004", "amount_cents": "30.00", "ticket": "T-1",
            "reason": "r"}
    assert form_post(client, REFUND, data, token=False).status_code == 400
    assert target_row("orders", id=1004)["refunded_cents"] == 0


# ---- undo and history -------------------------------------------------------------------------

def unlock_locked_customer(client) -> int:
    path = "/admin/tasks/unlock_account/"
    html = form_post(client, path, {"action": "preview", "email": "locked@example.com", "ticket": "T-5",
                                    "reason": "customer verified by phone"}).get_data(as_text=True)
    return run_id_from(confirm(client, path, html))


def test_history_filters_by_ticket_customer_and_task(client, login_as, demo_shop):
    login_as("agent")
    unlock_id = unlock_locked_customer(client)
    refund_id = run_id_from(confirm(client, REFUND, preview_refund(client).get_data(as_text=True)))

    def listed(query):
        html = client.get(f"/admin/runs/?{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/admin/runs/(\d+)"', html)}

    assert listed("ticket=T-5") == {unlock_id}
    assert listed("customer=locked@example.com") == {unlock_id}
    assert listed("task=refund_order") == {refund_id}
    assert listed("order=1004") == {refund_id}
    assert listed("ticket=<b>nothing</b>") == set()


def test_run_pages_404_for_unknown_runs(client, login_as):
    login_as("agent")
    assert client.get("/admin/runs/999999").status_code == 404


def test_developers_read_runs_but_cannot_decide(client, login_as):
    login_as("developer")
    assert client.get("/admin/runs/").status_code == 200
    assert client.get("/admin/approvals/").status_code == 403


def test_home_sections_per_role(client, auth, make_user):
    for role, marker in (("agent", "Run a task"), ("lead", "Waiting for your approval"),
                         ("developer", "support-console tasks new")):
        auth.login(make_user(role).email)
        assert marker in client.get("/admin/").get_data(as_text=True), role
        auth.logout()


def test_every_task_and_run_post_route_needs_csrf(app, client, login_as):
    login_as("lead")
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.split(".")[0] in ("tasks", "runs", "approvals") and "POST" in rule.methods]
    assert len(posts) >= 5
    for rule in posts:
        path = rule.rule.replace("<name>", "refund_order").replace("<int:run_id>", "1")
        assert client.post(path, data={"reason": "x"}).status_code == 400, path


def test_confirm_after_the_data_changed_shows_the_new_preview(client, login_as, demo_shop, target_db, target_row):
    from sqlalchemy import update

    from admin_tasks.shop_schema import Order

    login_as("agent")
    html = preview_refund(client).get_data(as_text=True)
    target_db.execute(update(Order).where(Order.id == 1004).values(refunded_cents=1000))
    target_db.flush()
    response = confirm(client, REFUND, html)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "changed since your preview" in text
    assert 'class="diff-before">EUR 10.00' in text  # the new preview starts from the new value
    assert target_row("orders", id=1004)["refunded_cents"] == 1000


def test_a_database_failing_between_a_pages_statements_answers_503_not_500(client, login_as, monkeypatch):
    # The user loaded, then the home page's decisions (database_guard) met a database that had gone away.
    from console.tasks import approvals
    from console.tasks.checks import TaskError

    def gone(*_args, **_kwargs):
        raise TaskError(503, "unavailable", "a database is unavailable (OperationalError); retry in a moment")

    monkeypatch.setattr(approvals, "decisions_for", gone)
    login_as("agent")
    response = client.get("/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert "A database is unavailable" in html and "A database is unavailable (OperationalError); retry" in html
