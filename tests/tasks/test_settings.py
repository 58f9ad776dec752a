"""The runner's settings: read from the environment, refused at start-up when malformed."""
import pytest

from console.config import ConfigError
from console.tasks.settings import load_task_settings


def test_defaults_are_filled_in(monkeypatch):
    for variable in ("CONSOLE_AMOUNT_CAPS", "CONSOLE_TASK_RATE_LIMITS", "CONSOLE_RECONCILE_AFTER_SECONDS",
                     "CONSOLE_IDEMPOTENCY_WAIT_SECONDS", "CONSOLE_IDEMPOTENCY_KEEP_SECONDS"):
        monkeypatch.delenv(variable, raising=False)
    config = {}
    load_task_settings(config)
    assert config == {"RECONCILE_AFTER_SECONDS": 60.0, "IDEMPOTENCY_WAIT_SECONDS": 15.0,
                      "IDEMPOTENCY_KEEP_SECONDS": 86400.0}


def test_the_environment_sets_caps_limits_and_timeouts(monkeypatch):
    monkeypatch.setenv("CONSOLE_AMOUNT_CAPS", '{"agent": 5000, "lead": 50000}')
    monkeypatch.setenv("CONSOLE_TASK_RATE_LIMITS", '{"refund_order": "30/hour"}')
    monkeypatch.setenv("CONSOLE_RECONCILE_AFTER_SECONDS", "1.5")
    config = {}
    load_task_settings(config)
    assert config["AMOUNT_CAPS"] == {"agent": 5000, "lead": 50000}
    assert config["TASK_RATE_LIMITS"] == {"refund_order": "30/hour"}
    assert config["RECONCILE_AFTER_SECONDS"] == 1.5


def test_app_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("CONSOLE_AMOUNT_CAPS", '{"agent": 1}')
    config = {"AMOUNT_CAPS": {"agent": 7}}
    load_task_settings(config)
    assert config["AMOUNT_CAPS"] == {"agent": 7}


@pytest.mark.parametrize("variable, value, words", [
    ("CONSOLE_AMOUNT_CAPS", "{agent: 5}", "CONSOLE_AMOUNT_CAPS is not valid JSON"),
    ("CONSOLE_AMOUNT_CAPS", '{"agent": "lots"}', "AMOUNT_CAPS must map roles to amounts"),
    ("CONSOLE_TASK_RATE_LIMITS", '{"refund_order": "often"}', "TASK_RATE_LIMITS['refund_order']"),
    ("CONSOLE_RECONCILE_AFTER_SECONDS", "soon", "RECONCILE_AFTER_SECONDS (CONSOLE_RECONCILE_AFTER_SECONDS)"),
    ("CONSOLE_IDEMPOTENCY_WAIT_SECONDS", "-1", "IDEMPOTENCY_WAIT_SECONDS"),
    ("CONSOLE_IDEMPOTENCY_KEEP_SECONDS", "0", "IDEMPOTENCY_KEEP_SECONDS (CONSOLE_IDEMPOTENCY_KEEP_SECONDS) must be a "
                                              "number of seconds from 60 to 86400"),
])
def test_a_malformed_value_names_the_variable(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_task_settings({})
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)
