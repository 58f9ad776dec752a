"""The bulk settings from the environment: the queue's name, and its one-line error."""
import pytest

from console.bulk.settings import load_bulk_config
from console.config import ConfigError


def _loaded() -> dict:
    config: dict = {}
    load_bulk_config(config)
    return config


def test_the_queue_is_named_console_bulk_unless_told(monkeypatch):
    monkeypatch.delenv("CONSOLE_QUEUE_NAME", raising=False)
    assert _loaded()["QUEUE_NAME"] == "console-bulk"
    monkeypatch.setenv("CONSOLE_QUEUE_NAME", " staging.console-bulk:2 ")
    assert _loaded()["QUEUE_NAME"] == "staging.console-bulk:2"


@pytest.mark.parametrize("name", ["two words", "-bulk", "bülk", "x" * 101, "a/b"])
def test_a_malformed_queue_name_stops_start_up_naming_its_variable(monkeypatch, name):
    monkeypatch.setenv("CONSOLE_QUEUE_NAME", name)
    with pytest.raises(ConfigError, match="CONSOLE_QUEUE_NAME must be 1-100 letters"):
        _loaded()
