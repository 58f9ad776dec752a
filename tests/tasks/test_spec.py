"""The @task decorator and the spec read from a function's signature."""

import enum
from datetime import date
from typing import Annotated, Literal

import pytest

from console.tasks import Email, Money, Param, Secret, TaskContext, task
from console.tasks.spec import TaskDefinitionError, build_spec

FILE = "admin_tasks/example.py"


def test_the_decorator_only_attaches_metadata():
    def plain(ctx: TaskContext, order_id: int) -> str:
        """Do it."""
        return f"did {order_id}"

    decorated = task(title="Plain", category="Orders")(plain)

    assert decorated is plain
    assert decorated(None, order_id=3) == "did 3"
    assert plain.__task_spec__.title == "Plain"
    assert plain.__task_spec__.roles == ("agent", "lead", "admin")


def test_a_spec_takes_its_name_description_and_parameters_from_the_function():
    class Tier(enum.Enum):
        BASIC = "basic"
        GOLD = "gold"

    @task(title=" Refund ", category="Orders", risk="medium", undo=True)
    def refund(
        ctx: TaskContext,
        order_id: Annotated[int, Param("Order number", min=1)],
        amount: Annotated[Money, Param("Amount", help="in euros", currency="EUR")],
        email: Email,
        token: Secret,
        day: date,
        express: bool,
        tier: Tier,
        size: Literal["s", "m"] = "m",
        *,
        note: str | None = None,
    ) -> str:
        """Refund an order.

        More words.
        """

    spec = build_spec(refund, FILE)

    assert (spec.name, spec.title, spec.category, spec.risk) == ("refund", "Refund", "Orders", "medium")
    assert spec.description.startswith("Refund an order.") and spec.summary_line == "Refund an order."
    assert spec.undoable and spec.file == FILE
    kinds = {p.name: (p.kind, p.required) for p in spec.params}
    assert kinds == {"order_id": ("int", True), "amount": ("money", True), "email": ("email", True),
                     "token": ("secret", True), "day": ("date", True), "express": ("bool", False),
                     "tier": ("choice", True), "size": ("choice", False), "note": ("str", False)}
    assert spec.param("order_id").label == "Order number" and spec.param("order_id").min == 1
    assert spec.param("amount").help == "in euros" and spec.param("amount").currency == "EUR"
    assert spec.param("email").label == "Email"  # derived from the name when there is no Param
    assert spec.param("tier").choice_pairs() == [("basic", "Basic"), ("gold", "Gold")]
    assert spec.param("size").default == "m" and spec.param("express").default is False
    assert spec.param("token").is_secret and not spec.param("email").is_secret


def test_a_money_parameter_states_one_currency():
    @task(title="T")
    def unstated(ctx: TaskContext, amount: Money) -> str:
        """Doc."""

    @task(title="T")
    def not_a_code(ctx: TaskContext, amount: Annotated[Money, Param("Amount", currency="euro")]) -> str:
        """Doc."""

    @task(title="T")
    def on_an_int(ctx: TaskContext, count: Annotated[int, Param("Count", currency="EUR")]) -> str:
        """Doc."""

    @task(title="T")
    def two(ctx: TaskContext, fee: Annotated[Money, Param("Fee", currency="EUR")],
            refund: Annotated[Money, Param("Refund", currency="USD")]) -> str:
        """Doc."""

    assert "'amount': a Money parameter states its currency" in _error(unstated)
    assert "currency 'euro' is not a three-letter ISO 4217 code" in _error(not_a_code)
    assert "'count': currency applies to Money parameters" in _error(on_an_int)
    assert "Money parameters must share one currency, not EUR, USD" in _error(two)


def test_name_overrides_the_function_name_and_a_risk_function_is_kept():
    def risk(params):
        return "high"

    @task(title="T", name="other_name", risk=risk)
    def fn(ctx: TaskContext) -> str:
        """Doc."""

    spec = build_spec(fn, FILE)
    assert spec.name == "other_name" and spec.risk is risk and spec.risk_label == "varies"


def _error(fn) -> str:
    with pytest.raises(TaskDefinitionError) as caught:
        build_spec(fn, FILE)
    assert caught.value.file == FILE
    assert str(caught.value).startswith(f"{FILE}: task ")
    return caught.value.detail


def test_a_missing_annotation_names_the_file_and_the_parameter():
    @task(title="T")
    def fn(ctx: TaskContext, order_id) -> str:
        """Doc."""

    assert "parameter 'order_id' has no type annotation" in _error(fn)


def test_an_unknown_type_is_an_error():
    @task(title="T")
    def fn(ctx: TaskContext, ratio: float) -> str:
        """Doc."""

    assert "unknown type float" in _error(fn)


@pytest.mark.parametrize("declare, expected", [
    (dict(title=""), "a title is required"),
    (dict(title="T", risk="extreme"), "risk must be one of low, medium, high"),
    (dict(title="T", roles=("agent", "boss")), "roles must be"),
    (dict(title="T", roles=()), "roles must be"),
    (dict(title="T", undo="yes"), "undo must be True, False or a function"),
    (dict(title="T", name="Bad Name"), "lower-case letters"),
    (dict(title="T", examples=[{"order_id": "x"}]), "example 1 is invalid"),
    (dict(title="T", examples=["order_id=1"]), "examples must be a list of dicts"),
    (dict(title="T", undo=True, redact_before=True), "generic undo restores the before values"),
])
def test_bad_declarations_are_errors(declare, expected):
    @task(**declare)
    def fn(ctx: TaskContext, order_id: int) -> str:
        """Doc."""

    assert expected in _error(fn)


def test_a_docstring_is_required():
    @task(title="T")
    def fn(ctx: TaskContext) -> str:
        return ""

    assert "a docstring is required" in _error(fn)


def test_the_first_parameter_is_the_context():
    @task(title="T")
    def fn(order_id: int) -> str:
        """Doc."""

    assert "first parameter must be `ctx: TaskContext`" in _error(fn)


def test_reserved_names_and_var_args_are_refused():
    @task(title="T")
    def reserved(ctx: TaskContext, reason: str) -> str:
        """Doc."""

    @task(title="T")
    def var_args(ctx: TaskContext, *orders: int) -> str:
        """Doc."""

    assert "reserved name" in _error(reserved)
    assert "no *args" in _error(var_args)


def test_constraints_must_fit_the_type():
    @task(title="T")
    def min_on_text(ctx: TaskContext, note: Annotated[str, Param("Note", min=3)]) -> str:
        """Doc."""

    @task(title="T")
    def pattern_on_int(ctx: TaskContext, n: Annotated[int, Param("N", pattern=r"\d+")]) -> str:
        """Doc."""

    @task(title="T")
    def bad_pattern(ctx: TaskContext, note: Annotated[str, Param("Note", pattern="(")]) -> str:
        """Doc."""

    @task(title="T")
    def nullable_without_default(ctx: TaskContext, note: str | None) -> str:
        """Doc."""

    assert "min and max apply to int" in _error(min_on_text)
    assert "pattern and max_length apply to text" in _error(pattern_on_int)
    assert "invalid pattern" in _error(bad_pattern)
    assert "needs a default" in _error(nullable_without_default)


def test_an_annotation_naming_something_undefined_is_an_error():
    def fn(ctx, order_id: "Undefined") -> str:  # noqa: F821
        """Doc."""

    task(title="T")(fn)
    assert "cannot read the annotations" in _error(fn)


def _offered(**declaration):
    @task(title="Cancel", category="Orders", offered_on="orders", record_param="order_id", **declaration)
    def cancel(ctx: TaskContext, order_id: int) -> str:
        """Cancel it."""

    return build_spec(cancel, FILE)


def test_applies_when_reads_the_row_and_gives_the_reason_it_does_not_apply():
    spec = _offered(applies_when=lambda row: True if row["status"] == "paid" else f"the order is {row['status']}")
    assert spec.not_applying({"status": "paid"}) == ""
    assert spec.not_applying({"status": "delivered"}) == "the order is delivered"
    assert _offered(applies_when=lambda row: False).not_applying({}) == "it does not apply here"
    assert _offered().not_applying({"status": "delivered"}) == ""


def test_a_check_that_fails_offers_the_task_and_leaves_the_decision_to_its_refusal(caplog):
    spec = _offered(applies_when=lambda row: row["no_such_column"] == 1)
    assert spec.not_applying({"status": "paid"}) == ""
    assert "applies_when failed" in caplog.text


def test_applies_when_needs_a_record_and_both_options_need_functions():
    def lone(ctx: TaskContext, order_id: int) -> str:
        """Do it."""

    with pytest.raises(TaskDefinitionError, match="applies_when needs offered_on"):
        build_spec(task(title="Lone", applies_when=lambda row: True)(lone), FILE)
    for option in ("applies_when", "reply", "batch_reads"):
        with pytest.raises(TaskDefinitionError, match=f"{option} must be a function"):
            _offered(**{option: "paid"})


def test_a_reply_is_the_tasks_sentence_to_the_customer_or_nothing():
    spec = _offered(reply=lambda params, result: f" We have cancelled order {params['order_id']}. ")
    assert spec.suggested_reply({"order_id": 7}, "Cancelled") == "We have cancelled order 7."
    assert _offered().suggested_reply({"order_id": 7}, "") == ""
    assert _offered(reply=lambda params, result: params["missing"]).suggested_reply({}, "") == ""


def test_the_catalogs_summary_is_the_first_sentence_never_cut_mid_word():
    from console.tasks.spec import first_sentence

    assert first_sentence("Refund part or all of an order to the card it was\npaid with, and email the customer. "
                          "The amount is in euros.") == ("Refund part or all of an order to the card it was paid "
                                                         "with, and email the customer.")
    long = "Replace " + "the whole delivery address " * 20
    cut = first_sentence(long, limit=60)
    assert cut.endswith("…") and len(cut) <= 61 and long.startswith(cut[:-1]) and long[len(cut) - 1] == " "


def test_a_run_is_on_the_record_its_task_is_offered_on_keyed_as_the_task_takes_the_value():
    from console.tasks.spec import record_key, record_of

    @task(title="Close", category="Accounts", offered_on="accounts", record_param="owner")
    def close(ctx: TaskContext, owner: Email, note: str = "") -> str:
        """Close it."""

    by_email = build_spec(close, FILE)
    assert record_of(by_email, {"owner": "ada@example.com", "note": "x"}) == ("accounts", "ada@example.com")
    # The page's value, as the record's column holds it, keys the same runs as the parameter the task took.
    assert record_key(by_email, " Ada@Example.COM ") == "ada@example.com"
    assert record_of(_offered(), {"order_id": 1004}) == ("orders", "1004") and record_key(_offered(), 1004) == "1004"
    assert record_of(_offered(), {"order_id": None}) == (None, None)

    def loose(ctx: TaskContext, order_id: int) -> str:
        """Offered nowhere."""

    assert record_of(build_spec(task(title="Loose")(loose), FILE), {"order_id": 7}) == (None, None)
