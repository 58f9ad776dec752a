"""Typed parameters: coercion of form, CLI and JSON input; the JSON Schema; the WTForms form."""
from datetime import date

import pytest
from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict
from wtforms import Form, fields

from console.tasks.params import MAX_MONEY, ParamErrors, coerce_params, params_to_json
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
    assert "does not have the expected format" in messages["note"]
    assert messages["count"] == "Count must be at most 5"
    assert "expected a date (YYYY-MM-DD)" in messages["day"]
    assert messages["tier"] == "Tier must be one of: basic, gold"
    assert messages["size"] == "Size must be one of: s, m, l"
    assert messages["colour"].startswith("unknown parameter; fake_every_type takes: note, count")


def test_missing_required_fields_are_named_and_bool_is_never_missing(every):
    with pytest.raises(ParamErrors) as caught:
        coerce_params(every, {"note": "  ", "size": ""})

    assert caught.value.fields == {"note": "Note is required", "count": "Count is required",
                                   "day": "Day is required", "tier": "Tier is required"}


@pytest.mark.parametrize("value, message", [
    ("1.5", "expected a whole number"), (True, "expected a whole number"), ("", "is required"),
    (0, "must be at least 1"), ("abc", "expected a whole number"),
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
    assert caught.value.fields == {"flag": "Flag expected true or false"}


def test_money_is_whole_non_negative_cents(registry):
    refund = registry.get("fake_refund")

    assert coerce_params(refund, {"order_id": "7", "amount_cents": "2600"}) == {"order_id": 7, "amount_cents": 2600}
    for value, message in (("-5", "cannot be negative"), ("12.50", "whole number"), (MAX_MONEY + 1, "at most"),
                           ("0", "at least 1")):
        with pytest.raises(ParamErrors) as caught:
            coerce_params(refund, {"order_id": 7, "amount_cents": value})
        assert message in caught.value.fields["amount_cents"], value


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
    assert (money["type"], money["minimum"], money["x-console-type"]) == ("integer", 1, "money")


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


def test_secret_and_email_fields(registry):
    form = registry.get("fake_secret").form_class()()

    assert isinstance(form.token, fields.PasswordField) and isinstance(form.email, fields.EmailField)


def test_a_base_class_can_be_given():
    class Base(Form):
        extra = fields.StringField("Extra")

    spec = discover([SHOP]).get("fake_unlock")
    form = spec.form_class(Base)()

    assert isinstance(form, Base) and "extra" in form._fields and "email" in form._fields
