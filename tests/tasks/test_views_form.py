"""The task page with every parameter type: labelled fields, typed preview, secrets never echoed."""
import re

from tests.conftest import AuthActions
from tests.tasks.test_views import confirmation, form_post


EVERY_KIND = '''
import enum
from datetime import date
from typing import Annotated, Literal

from console.tasks import Email, Money, Param, Secret, TaskContext, task


class Channel(enum.Enum):
    EMAIL = "email"
    PHONE = "phone"


@task(title="Every kind", category="Test")
def every_kind(
    ctx: TaskContext,
    email: Annotated[Email, Param("Customer email")],
    note: Annotated[str, Param("Note", pattern="[a-z ]+", max_length=40, help="Lower-case words.")],
    count: Annotated[int, Param("Count", min=1, max=5)],
    urgent: Annotated[bool, Param("Urgent")],
    since: Annotated[date, Param("Since")],
    size: Annotated[Literal["s", "m", "l"], Param("Size")],
    channel: Annotated[Channel, Param("Channel")],
    amount: Annotated[Money, Param("Amount", currency="EUR")],
    code: Annotated[Secret, Param("One-time code")],
    comment: Annotated[str, Param("Comment")] = "none",
) -> str:
    """Write every parameter into the customer's name, so a test can see each one arrive typed."""
    customer = ctx.get("customers", email=email, lock=True)
    ctx.update("customers", customer, name=f"{note}|{count}|{urgent}|{since.isoformat()}|{size}|{channel.value}|"
                                            f"{amount}|{len(code)}|{comment}")
    return "written"
'''


def test_every_parameter_type_renders_previews_and_runs(tmp_path, monkeypatch, isolated_app):
    from admin_tasks.shop_schema import Customer
    from console.db import utcnow
    from tests.committed import make_committed_user

    package = f"sc_kinds_{tmp_path.name[-12:].replace('-', '_')}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(EVERY_KIND)
    monkeypatch.syspath_prepend(str(tmp_path))
    app = isolated_app(TASK_PACKAGES=[package])
    with app.extensions["console_db"].target_engine.begin() as conn:
        conn.execute(Customer.__table__.insert().values(id=7, email="kim@example.com", name="Kim", status="active",
                                                        email_confirmed=True, failed_login_count=0,
                                                        created_at=utcnow(), updated_at=utcnow()))
    client = app.test_client()
    AuthActions(client).login(make_committed_user(app, "agent"))
    path = "/admin/tasks/every_kind/"
    form = client.get(path).get_data(as_text=True)
    for name in ("email", "note", "count", "urgent", "since", "size", "channel", "amount", "code", "comment"):
        assert re.search(f'<label[^>]* for="{name}"', form), name
    assert 'type="checkbox"' in form and 'type="date"' in form and 'type="password"' in form
    assert '<option value="phone">' in form and '<option value="m">' in form

    data = {"action": "preview", "email": "Kim@Example.com", "note": "call back", "count": "3", "urgent": "y",
            "since": "2024-01-02", "size": "m", "channel": "phone", "amount": "25", "code": "s3cr3t-code",
            "ticket": "T-K", "reason": "every kind"}
    preview = form_post(client, path, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:2000]
    written = "call back|3|True|2024-01-02|m|phone|2500|11|none"  # EUR 25 typed, 2500 cents to the task
    # The task made the name up from typed values, but nobody typed the name itself: masked like the old one.
    assert written not in html and "c••• b•••" in html and "K•••" in html
    assert "s3cr3t-code" not in html and "[redacted]" in html and 'id="confirm-code"' in html
    assert "s3cr3t-code" not in confirmation(html)  # not even inside the signed confirmation

    without_secret = form_post(client, path, {"action": "confirm", "confirmation": confirmation(html)})
    assert without_secret.status_code == 400 and 'id="code-error"' in without_secret.get_data(as_text=True)
    done = form_post(client, path, {"action": "confirm", "confirmation": confirmation(html), "code": "s3cr3t-code"})
    run_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "succeeded" in run_page and "s3cr3t-code" not in run_page
    with app.extensions["console_db"].target_engine.connect() as conn:
        assert conn.scalar(Customer.__table__.select().with_only_columns(Customer.name)) == written

    bad = form_post(client, path, dict(data, note="UPPER", count="9", since="02/01/2024", size="xl", amount="2.505"))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Amount may have at most 2 decimals in EUR" in text
    for name in ("note", "count", "since", "size", "amount"):
        assert f'id="{name}-error"' in text, name


def test_the_preview_says_what_changes_in_a_sentence_and_a_labelled_table(app, client, login_as, demo_shop,
                                                                          monkeypatch):
    from zoneinfo import ZoneInfo

    monkeypatch.setitem(app.extensions, "display_zone", ZoneInfo("Europe/Berlin"))
    login_as("agent")
    html = form_post(client, "/admin/tasks/unlock_account/", {
        "action": "preview", "email": "locked@example.com", "ticket": "T-9", "reason": "locked out"}).get_data(
        as_text=True)
    summary = re.search(r'<p class="lead" id="preview-summary">(.*?)</p>', html).group(1)
    assert re.fullmatch(r"Confirming will change the status and failed login count of Customer "
                        r"locked@example\.com \(#\d+\)\.", summary)
    assert "customers 1 (" not in html and "-&gt;" not in html  # no machine text
    table = re.search(r'<table class="table table-sm table-bordered diff-table" data-table="customers">.*?</table>',
                      html, re.S).group(0)
    assert re.search(r"<caption[^>]*>\s*<strong>Customer locked@example\.com \(#\d+\)</strong>", table)
    assert '<th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th>' in table
    assert re.search(r'<th scope="row" data-column="failed_login_count">Failed login count', table)
    updated = re.search(r'data-column="updated_at">Last changed.*?</tr>', table, re.S).group(0)
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" data-local-time data-seconds>'
                     r'\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d CES?T</time>', updated)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?<", table)  # no ISO text
