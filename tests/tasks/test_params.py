"""Typed parameters: coercion of form, CLI and JSON input; the JSON Schema; the WTForms form."""
from datetime import date
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict
from wtforms import Form, fields

from console.tasks.params import MAX_MONEY, ParamErrors, ParamSpec, coerce_params, params_to_json
from console.tasks.registry import discover
from tests.tasks.fake_tasks import SHOP
from tests.tasks.fake_tasks.shop.accounts import Tier


@pytest.fixture(scope="module")
def registry():
    return discover([SHOP])


@pytest.fixture
def every(registry):
    return registry.get("fake_every_type")


GOOD_FORM = {"note": " hello there ", "count": "3", "flag": "y", "day": "2024-02-29", "tier": "gold"}


def test_strings_from_a_form_or_the_cli_become_typed_values(every):
    typed = coerce_params(every, GOOD_FORM)

    assert typed == {"note": "hello there", "count": 3, "flag": True, "day": date(2024, 2, 29), "tier": Tier.GOLD,
                     "size": "m", "nickname": None}


def test_json_values_are_accepted_as_they_are(every):
    typed = coerce_params(every, {"note": "x", "count": 5, "flag": False, "day": "2020-01-01", "tier": "basic",
                                  "size": "l", "nickname": "Al"})

    assert typed["count"] == 5 and typed["flag"] is False and typed["tier"] is Tier.BASIC
    assert typed["size"] == "l" and typed["nickname"] == "Al"


def test_an_enum_is_matched_by_value_or_by_name(every):
    assert coerce_params(every, {**GOOD_FORM, "tier": "GOLD"})["tier"] is Tier.GOLD
    assert coerce_params(every, {**GOOD_FORM, "tier": Tier.BASIC})["tier"] is Tier.BASIC


def test_every_bad_field_gets_its_own_message(every):
    with pytest.raises(ParamErrors) as caught:
        coerce_params(every, {"note": "UPPER", "count": "9", "day": "yesterday", "tier": "platinum",
                              "size": "xl", "colour": "red"})

    messages = caught.value.fields
    assert set(messages) == {"note", "count", "day", "tier", "size", "colour"}
    assert "is not in the expected format" in messages["note"]
    assert messages["count"] == "Count must be at most 5"
    assert "must be a date written YYYY-MM-DD" in messages["day"]
    assert messages["tier"] == "Tier must be one of: basic, gold"
    assert messages["size"] == "Size must be one of: s, m, l"
    assert messages["colour"].startswith("unknown parameter; fake_every_type takes: note, count")


def test_missing_required_fields_are_named_and_bool_is_never_missing(every):
    with pytest.raises(ParamErrors) as caught:
        coerce_params(every, {"note": "  ", "size": ""})

    assert caught.value.fields == {"note": "Note is required", "count": "Count is required",
                                   "day": "Day is required", "tier": "Tier is required"}


@pytest.mark.parametrize("value, message", [
    ("1.5", "must be a whole number"), (True, "must be a whole number"), ("", "is required"),
    (0, "must be at least 1"), ("abc", "must be a whole number"),
])
def test_int_rules(every, value, message):
    with pytest.raises(ParamErrors) as caught:
        coerce_params(every, {**GOOD_FORM, "count": value})
    assert message in caught.value.fields["count"]


def test_min_on_a_date_and_control_characters_in_text(every):
    with pytest.raises(ParamErrors) as caught:
        coerce_params(every, {**GOOD_FORM, "day": "2019-12-31", "note": "a\x00b"})

    assert caught.value.fields == {"day": "Day must be at least 2020-01-01",
                                   "note": "Note cannot contain control characters"}


def test_bool_strings(every):
    assert coerce_params(every, {**GOOD_FORM, "flag": "off"})["flag"] is False
    assert coerce_params(every, {**{k: v for k, v in GOOD_FORM.items() if k != "flag"}})["flag"] is False
    with pytest.raises(ParamErrors) as caught:
        coerce_params(every, {**GOOD_FORM, "flag": "maybe"})
    assert caught.value.fields == {"flag": "Flag must be true or false"}


def test_money_from_the_api_and_the_cli_is_whole_non_negative_cents(registry):
    refund = registry.get("fake_refund")

    assert coerce_params(refund, {"order_id": "7", "amount_cents": "2600"}) == {"order_id": 7, "amount_cents": 2600}
    for value, message in (("-5", "Amount cannot be negative"),
                           ("12.50", "Amount must be a whole number of cents (EUR 25.00 is 2500)"),
                           (MAX_MONEY + 1, "Amount must be at most EUR 21,474,836.47"),
                           ("0", "Amount must be at least EUR 0.01")):
        with pytest.raises(ParamErrors) as caught:
            coerce_params(refund, {"order_id": 7, "amount_cents": value})
        assert caught.value.fields["amount_cents"] == message, value


@pytest.mark.parametrize("typed, cents", [("250.00", 25000), ("250", 25000), ("250.5", 25050), (" 0.07 ", 7),
                                          ("1,250.00", 125000), ("EUR 250.00", 25000), ("250 eur", 25000)])
def test_money_typed_into_a_form_is_in_the_currencys_units(registry, typed, cents):
    refund = registry.get("fake_refund")

    assert coerce_params(refund, {"order_id": 7, "amount_cents": typed}, money_in_units=True)["amount_cents"] == cents


@pytest.mark.parametrize("typed, message", [
    ("250.001", "Amount may have at most 2 decimals in EUR"), ("-5", "Amount cannot be negative"),
    ("lots", "Amount is not an amount in EUR; write it like 250.00"), ("250,50", "Amount is not an amount in EUR; "
                                                                               "write it like 250.00"),
    ("USD 5", "Amount is not an amount in EUR; write it like 250.00"), ("0", "Amount must be at least EUR 0.01"),
    ("21474836.48", "Amount must be at most EUR 21,474,836.47"), ("9" * 41, "Amount is too large"),
])
def test_a_bad_amount_typed_into_a_form_is_named(registry, typed, message):
    with pytest.raises(ParamErrors) as caught:
        coerce_params(registry.get("fake_refund"), {"order_id": 7, "amount_cents": typed}, money_in_units=True)

    assert caught.value.fields == {"amount_cents": message}


def test_currencies_without_cents_or_with_mills_take_their_own_decimals():
    def typed(currency, text):
        spec = SimpleNamespace(name="pay", params=(ParamSpec(name="amount", kind="money", label="Amount",
                                                             currency=currency),))
        try:
            return coerce_params(spec, {"amount": text}, money_in_units=True)["amount"]
        except ParamErrors as exc:
            return exc.fields["amount"]

    assert (typed("JPY", "2500"), typed("KWD", "1.234")) == (2500, 1234)
    assert typed("JPY", "25.5") == "Amount takes whole JPY: JPY has no decimals"
    assert typed("KWD", "1.2345") == "Amount may have at most 3 decimals in KWD"
    shown = ParamSpec(name="amount", kind="money", label="Amount", currency="JPY").shown(2500)
    assert shown == "JPY 2,500"


PLAIN_AND_NOT = [
    "alice@example.com", "U.Ser+tag@Sub.Example.COM", "x@a-b.c-d.io", "_@a.co", "-@a.co", "a" * 64 + "@x.com",
    "u@" + "b" * 63 + ".com", "a@" + ".".join(["b" * 60] * 4) + ".com",  # plain: 254 characters
    "a" * 65 + "@x.com", "u@" + "b" * 64 + ".com", "x@ab--c.com", "x@xn--abc.com", "a@b.test", "a@b.localhost",
    "a@b.invalid", "a..b@c.com", ".a@c.com", "a.@c.com", "a@-b.com", "a@b-.com", "a@b.c", "a@b.c0m", "a@b",
    "a@" + ".".join(["b" * 62] * 4) + ".com", "a@b..com", "é@b.com", "a@bé.com", "a b@c.com", "a@[127.0.0.1]",
]


@pytest.mark.parametrize("address", PLAIN_AND_NOT)
def test_plainly_valid_emails_are_read_as_email_validator_reads_them(address):
    """The quick reading of plain addresses accepts only what email_validator accepts, and reads it the same."""
    from email_validator import EmailNotValidError, validate_email

    from console.tasks.params import _plain_email

    quick = _plain_email(address)
    try:
        full = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        full = None
    assert quick is None or quick == full
    if address in PLAIN_AND_NOT[:8]:
        assert quick == full.lower()


def test_email_is_validated_and_lower_cased(registry):
    unlock = registry.get("fake_unlock")

    assert coerce_params(unlock, {"email": "  Alice@Example.COM "}) == {"email": "alice@example.com"}
    with pytest.raises(ParamErrors) as caught:
        coerce_params(unlock, {"email": "alice at example"})
    assert caught.value.fields["email"].startswith("Customer email is not a valid email address")


def test_ticket_reason_and_csrf_token_are_not_unknown_parameters(registry):
    unlock = registry.get("fake_unlock")
    raw = MultiDict({"email": "a@example.org", "ticket": "T-1", "reason": "r", "csrf_token": "x"})

    assert coerce_params(unlock, raw) == {"email": "a@example.org"}


def test_secrets_are_kept_for_the_task_but_redacted_for_storage(registry):
    secret = registry.get("fake_secret")
    typed = coerce_params(secret, {"email": "a@example.org", "token": " s3cret "})

    assert typed["token"] == " s3cret "  # secrets are passed as typed, never trimmed
    assert params_to_json(secret, typed) == {"email": "a@example.org", "token": "[redacted]"}
    assert params_to_json(secret, typed, redact=False)["token"] == " s3cret "


def test_params_to_json_gives_json_values(every):
    typed = coerce_params(every, GOOD_FORM)

    assert params_to_json(every, typed) == {"note": "hello there", "count": 3, "flag": True, "day": "2024-02-29",
                                            "tier": "gold", "size": "m", "nickname": None}


def test_the_json_schema_is_valid_and_agrees_with_the_rules(every, registry):
    schema = every.json_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)

    assert schema["required"] == ["note", "count", "day", "tier"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["count"] == {"title": "Count", "x-console-type": "int", "type": "integer",
                                             "minimum": 1, "maximum": 5}
    assert schema["properties"]["tier"]["enum"] == ["basic", "gold"]
    assert schema["properties"]["size"]["default"] == "m"
    assert schema["properties"]["day"]["format"] == "date"
    assert validator.is_valid({"note": "abc", "count": 2, "flag": True, "day": "2024-01-01", "tier": "gold"})
    assert not validator.is_valid({"note": "ABC", "count": 2, "day": "2024-01-01", "tier": "gold"})
    assert not validator.is_valid({"note": "abc", "count": 9, "day": "2024-01-01", "tier": "gold"})
    secret = registry.get("fake_secret").json_schema()["properties"]["token"]
    assert secret["writeOnly"] is True and secret["format"] == "password" and secret["maxLength"] == 64
    money = registry.get("fake_refund").json_schema()["properties"]["amount_cents"]
    # The API keeps whole cents; the currency they count is named beside them.
    assert (money["type"], money["minimum"], money["x-console-type"], money["x-currency"]) == (
        "integer", 1, "money", "EUR")


def test_every_fake_task_has_a_valid_schema(registry):
    for spec in registry:
        Draft202012Validator.check_schema(spec.json_schema())


def test_the_form_has_one_field_per_parameter(every):
    form = every.form_class()(formdata=MultiDict(GOOD_FORM))

    assert isinstance(form, Form)
    assert [field.name for field in form] == [p.name for p in every.params]
    assert isinstance(form.count, fields.IntegerField) and isinstance(form.flag, fields.BooleanField)
    assert isinstance(form.day, fields.DateField) and isinstance(form.tier, fields.SelectField)
    assert form.note.label.text == "Note" and form.note.description == "Free text"
    assert [(c.value, c.label) for c in form.tier.choices] == [("basic", "Basic"), ("gold", "Gold")]
    assert (form.size.choices[0].value, form.size.choices[0].label) == ("", "—")  # optional: may stay empty
    assert form.validate(), form.errors
    assert form.count.flags.required and not form.size.flags.required
    assert 'max="5"' in form.count() and 'min="1"' in form.count()


def test_the_form_refuses_what_the_runner_would(every):
    form = every.form_class()(formdata=MultiDict({**GOOD_FORM, "count": "", "note": "UPPER"}))

    assert not form.validate()
    assert set(form.errors) == {"count", "note"}


def test_a_money_field_takes_units_as_text_with_its_currency(registry):
    refund = registry.get("fake_refund")
    form = refund.form_class()(formdata=MultiDict({"order_id": "7", "amount_cents": "26.50"}))

    assert isinstance(form.amount_cents, fields.StringField) and form.amount_cents.data == "26.50"
    html = form.amount_cents()
    assert 'inputmode="decimal"' in html and 'data-currency="EUR"' in html and 'placeholder="0.00"' in html


def test_secret_and_email_fields(registry):
    form = registry.get("fake_secret").form_class()()

    assert isinstance(form.token, fields.PasswordField) and isinstance(form.email, fields.EmailField)


def test_a_base_class_can_be_given():
    class Base(Form):
        extra = fields.StringField("Extra")

    spec = discover([SHOP]).get("fake_unlock")
    form = spec.form_class(Base)()

    assert isinstance(form, Base) and "extra" in form._fields and "email" in form._fields
