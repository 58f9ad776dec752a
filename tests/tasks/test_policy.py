"""Policy: risk, approval by amount cap, rate-limit parsing and the start-up check of the config."""
from dataclasses import replace

import pytest

from console.tasks.policy import check_policy_config, decide, parse_rate, risk_of
from console.tasks.registry import discover
from tests.tasks.fake_tasks import SHOP


@pytest.fixture(scope="module")
def registry():
    return discover([SHOP])


def test_risk_comes_from_the_task_or_its_function(registry):
    assert risk_of(registry.get("fake_disable"), {"email": "a@b.org"}) == "high"
    assert risk_of(registry.get("fake_refund"), {"order_id": 1, "amount_cents": 10000}) == "medium"
    assert risk_of(registry.get("fake_refund"), {"order_id": 1, "amount_cents": 10001}) == "high"


def test_a_broken_risk_function_counts_as_high(registry, caplog):
    spec = registry.get("fake_refund")

    assert risk_of(spec, {}) == "high"  # KeyError inside the function
    assert "treating the run as high risk" in caplog.text
    assert risk_of(replace(spec, risk=lambda params: "severe"), {}) == "high"


def test_approval_is_needed_for_high_risk_or_an_amount_above_the_cap(app, registry):
    refund = registry.get("fake_refund")
    with app.app_context():
        small = decide(refund, {"order_id": 1, "amount_cents": 10000}, "medium", "agent")
        capped = decide(refund, {"order_id": 1, "amount_cents": 10001}, "medium", "agent")
        lead = decide(refund, {"order_id": 1, "amount_cents": 10001}, "medium", "lead")
        high = decide(registry.get("fake_disable"), {"email": "a@b.org"}, "high", "admin")

    assert not small.needs_approval and small.reasons == []
    assert capped.needs_approval and capped.reasons == [
        "Amount in cents (10001 cents) is above the agent limit of 10000 cents"]
    assert not lead.needs_approval
    assert high.needs_approval and high.reasons == ['"Fake high-risk disable" is high risk with these parameters']


@pytest.mark.parametrize("text, expected", [("30/hour", (30, 3600)), ("5 per minute", (5, 60)),
                                            ("1/second", (1, 1)), ("100/days", (100, 86400))])
def test_rates(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["30", "0/hour", "ten/hour", "3/fortnight", ""])
def test_bad_rates(text):
    with pytest.raises(ValueError, match="is not a rate like '30/hour'"):
        parse_rate(text)


def test_the_config_is_checked_at_start_up():
    check_policy_config({"AMOUNT_CAPS": {"agent": 500}, "TASK_RATE_LIMITS": {"x": "2/day"}})
    check_policy_config({})
    with pytest.raises(ValueError, match="AMOUNT_CAPS must map roles"):
        check_policy_config({"AMOUNT_CAPS": {"agent": "lots"}})
    with pytest.raises(ValueError, match="TASK_RATE_LIMITS must map"):
        check_policy_config({"TASK_RATE_LIMITS": ["x"]})
