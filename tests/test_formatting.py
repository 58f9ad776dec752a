"""How pages show values: times with their zone named, columns and rows in words, personal data masked."""
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console import create_app
from console.config import ConfigError
from console.formatting import (Personal, counted, format_time, human_column, local_time, row_name, table_noun,
                                zone_from_config)
from console.lookup.masking import PersonalColumns
from console.product import BelongsTo, Record
from tests.conftest import config_for

TEMPLATES = Path(__file__).resolve().parent.parent / "console" / "templates"


@pytest.fixture
def zone(app, monkeypatch):
    """zone("Europe/Berlin"): render times in that display zone, inside an app context."""

    def use(name: str):
        monkeypatch.setitem(app.extensions, "display_zone", ZoneInfo(name))
        return app.app_context()

    return use


def test_a_time_is_a_time_element_in_the_display_zone_with_the_zone_named(zone):
    with zone("Europe/Berlin"):
        winter = str(local_time(datetime(2026, 11, 27, 14, 5, 9, 123456)))
        summer = str(local_time(datetime(2026, 7, 1, 22, 30), seconds=True))
    assert winter == '<time datetime="2026-11-27T14:05:09Z" data-local-time>27 Nov 2026, 15:05 CET</time>'
    assert summer == ('<time datetime="2026-07-01T22:30:00Z" data-local-time data-seconds>'
                      '2 Jul 2026, 00:30:00 CEST</time>')
    with zone("UTC"):
        assert str(local_time(datetime(2026, 1, 5, 8, 0))).endswith(">5 Jan 2026, 08:00 UTC</time>")


def test_aware_times_and_json_timestamps_are_converted_and_anything_else_is_left_alone(zone):
    with zone("America/Sao_Paulo"):
        aware = datetime(2026, 11, 27, 16, 5, tzinfo=timezone(timedelta(hours=2)))
        assert "27 Nov 2026, 11:05 UTC-03</time>" in str(local_time(aware))
        assert 'datetime="2026-11-27T14:05:00Z"' in str(local_time("2026-11-27T14:05:00.5"))
        assert str(local_time(None)) == ""
        assert str(local_time(date(2026, 3, 1))) == '<time datetime="2026-03-01">1 Mar 2026</time>'
        assert str(local_time("<b>2026-02-30 10:00</b>")) == "&lt;b&gt;2026-02-30 10:00&lt;/b&gt;"
        assert str(local_time("2026-02-30 10:00")) == "2026-02-30 10:00"  # the shape of a time, not a real one
        assert str(local_time(42)) == "42"


def test_the_ends_of_the_calendar_do_not_break_a_page():
    assert format_time(datetime(1, 1, 1, 0, 0), zone=ZoneInfo("America/New_York")) == "1 Jan 1, 00:00 UTC"
    assert format_time(datetime(9999, 12, 31, 23, 59), zone=ZoneInfo("Asia/Tokyo")) == "31 Dec 9999, 23:59 UTC"


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../etc/passwd", "Europe/"])
def test_an_unknown_display_zone_stops_start_up_with_a_clear_message(database_urls, name):
    with pytest.raises(ConfigError, match=r"CONSOLE_TIMEZONE: .* is not a time zone\. Use an IANA name"):
        create_app(config_for(database_urls, DISPLAY_TIMEZONE=name))
    assert zone_from_config("") is ZoneInfo("UTC")


def test_every_page_loads_the_local_time_script_from_the_console_itself(client, login_as):
    login_as("lead")
    html = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'<script nonce="[^"]+" src="/static/local_time\.js"></script>', html)
    with client.get("/static/local_time.js") as script:
        assert script.status_code == 200 and script.mimetype == "text/javascript"
        assert "Intl.DateTimeFormat" in script.get_data(as_text=True)
        assert 'timeZoneName: "short"' in script.get_data(as_text=True)


def test_no_template_formats_a_time_itself():
    """Every time goes through local_time: a strftime or isoformat in a template shows it unzoned."""
    offenders = [f"{path.relative_to(TEMPLATES)}:{number}"
                 for path in TEMPLATES.rglob("*.html")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\.strftime\(|_at\.isoformat\(|\bwhen\(", line)]
    assert offenders == []


@pytest.mark.parametrize("column, label", [
    ("failed_login_count", "Failed login count"), ("refunded_cents", "Refunded amount (cents)"),
    ("amount_cents", "Amount (cents)"), ("order_id", "Order number"), ("line1", "Line 1"),
    ("updated_at", "Last changed"), ("email_confirmed", "Email confirmed"), ("status", "Status"),
])
def test_columns_are_named_in_words(column, label):
    assert human_column(column) == label
    # Without a raw value beside them (a sentence of what changes, an amount in its currency), no unit.
    assert human_column(column, unit=False) == label.removesuffix(" (cents)")


@pytest.fixture
def product_masks(app):
    """An app context: which columns are personal comes from the app's product package."""
    with app.app_context():
        yield


def test_rows_are_named_by_what_they_are(product_masks):
    masked, whole = Personal(), Personal(revealed=True)
    assert table_noun("customers") == "Customer" and table_noun("order_items") == "Order item"
    assert row_name("customers", 12, {"status": "locked"}, {"status": "active"}, personal=masked,
                    customer="alice@example.com") == "Customer al•••e@e•••.com (#12)"
    assert row_name("customers", 12, {"email": "old@example.com"}, {"email": "new@example.com"},
                    personal=whole) == "Customer old@example.com (#12)"
    assert row_name("customers", 3, {}, {}, personal=masked) == "Customer #3"
    assert row_name("orders", 1004, {}, {}, personal=masked) == "Order 1004"
    assert row_name("order_items", {"order_id": 1, "line": 2}, {}, {}, personal=masked) == \
        "Order item #order number 1, line 2"
    assert row_name("refunds", None, None, {"order_id": 1004}, personal=masked) == "New refund for order 1004"
    assert row_name("shipments", {"id": 7}, {"order_id": 1001}, {}, personal=masked) == "Shipment #7 of order 1001"
    # The shop's outbox record says what one of its rows is called; the customer it belongs to is not named.
    assert row_name("email_outbox", None, None, {"customer_id": 3, "order_id": 1004}, personal=masked) == \
        "New email for order 1004"
    assert row_name("email_outbox", None, None, {"customer_id": 3}, personal=masked) == "New email"


def test_rows_of_another_product_are_named_by_its_records(app):
    # Nothing of the shop: the words come from the package's declarations.
    accounts = Record("accounts", title="{name}", customer="email")
    records = [accounts, Record("plans", title="Plan {code}", key="code", noun="Price plan"),
               Record("subscriptions", related=[BelongsTo("accounts", via="account_id"),
                                                BelongsTo("plans", via="plan_code")]),
               Record("invoices", title="Invoice {id}", related=[BelongsTo("accounts", via="account_id")])]
    masked = Personal()
    with app.app_context():
        app.extensions["personal_data"], kept = PersonalColumns(records, customer=accounts), app.extensions["personal_data"]
        try:
            assert row_name("accounts", 5, {"email": "ann@example.com"}, {}, personal=masked) == "Account a•••@e•••.com (#5)"
            assert row_name("plans", "pro", {}, {}, personal=masked) == "Plan pro"
            assert row_name("plans", None, None, {}, personal=masked) == "New price plan"
            assert row_name("subscriptions", 9, {"account_id": 5, "plan_code": "pro"}, {}, personal=masked) == \
                "Subscription #9 of price plan pro"
            assert row_name("invoices", 12, {"account_id": 5}, {}, personal=masked) == "Invoice 12"
            assert row_name("orders", 1004, {}, {}, personal=masked) == "Order #1004"  # no such record here
        finally:
            app.extensions["personal_data"] = kept


def test_personal_values_are_masked_as_the_lookup_masks_them_and_also_where_free_text_repeats_them(product_masks):
    personal = Personal()
    assert personal.param("email", "Alice.Smith@example.com", "email") == "Al•••h@e•••.com"
    assert personal.param("new_email", "new.address@example.org") == "ne•••s@e•••.org"
    assert personal.param("recipient_name", "Alice Smith") == "A••• S•••"
    assert personal.param("postcode", "20095") == "20•••"
    assert personal.param("order_id", 1004) == 1004 and personal.param("code", "[redacted]") == "[redacted]"
    assert personal.column("customers", "phone", "+49 151 2345678") == "•••78"
    assert personal.column("order_items", "name", "Wool blanket") == "Wool blanket"  # a product, not a person
    text = "Moved alice.smith@example.com to new.address@example.org for Alice Smith; Alice Smithers unaffected"
    assert personal.text(text) == "Moved Al•••h@e•••.com to ne•••s@e•••.org for A••• S•••; Alice Smithers unaffected"
    assert Personal(revealed=True).param("email", "a@example.com", "email") == "a@example.com"


def test_audit_details_are_masked_in_params_changes_effects_and_texts(product_masks):
    details = {"params": {"email": "alice@example.com", "order_id": 1004},
               "expected": {"changes": [{"table": "customers", "key": 3, "before": {"email": "alice@example.com"},
                                         "after": {"email": "alice@new.example"}}],
                            "effects": [{"kind": "email", "to": "alice@new.example", "template": "changed"}]},
               "result": "Changed alice@example.com to alice@new.example", "source": "web"}
    shown = Personal().details(details, {"email": "email"})
    assert shown["params"] == {"email": "al•••e@e•••.com", "order_id": 1004}
    assert shown["expected"]["changes"][0]["after"] == {"email": "al•••e@n•••.example"}
    assert shown["expected"]["effects"][0]["to"] == "al•••e@n•••.example"
    assert shown["result"] == "Changed al•••e@e•••.com to al•••e@n•••.example" and shown["source"] == "web"
    assert details["params"]["email"] == "alice@example.com"  # the stored details are never touched


def test_a_count_takes_its_noun_in_the_right_number():
    assert (counted(1, "token"), counted(0, "token"), counted(2, "token")) == ("1 token", "0 tokens", "2 tokens")
    assert counted(3, "entry", "entries") == "3 entries" and counted(1, "entry", "entries") == "1 entry"


# "token(s)" is what a person reads when a count's noun was not put in number; "http(s)" is a real term.
HALF_PLURAL = re.compile(r"[a-z]\(s\)(?<!http\(s\))")


def test_no_message_leaves_its_plural_in_brackets():
    root = Path(__file__).resolve().parent.parent
    sources = [path for folder in ("console", "admin_tasks") for pattern in ("*.py", "*.html", "*.js")
               for path in (root / folder).rglob(pattern)]
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}" for path in sources
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if HALF_PLURAL.search(line)]
    assert not found, "\n".join(found)
