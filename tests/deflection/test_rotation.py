"""The support rotation: whose turn it is, sprint by sprint, and the settings behind it."""
from datetime import date, timedelta

import pytest

from console.config import ConfigError
from console.deflection import configure
from console.deflection.rotation import duty_on, rotation, schedule

CONFIG = {"SUPPORT_ROTATION": ["ann@example.com", "bob@example.com", "cy@example.com"], "SPRINT_DAYS": 14,
          "SPRINT_START": date(2026, 1, 5)}


@pytest.mark.parametrize("day, developer, starts", [
    (date(2026, 1, 5), "ann@example.com", date(2026, 1, 5)),
    (date(2026, 1, 18), "ann@example.com", date(2026, 1, 5)),
    (date(2026, 1, 19), "bob@example.com", date(2026, 1, 19)),
    (date(2026, 2, 2), "cy@example.com", date(2026, 2, 2)),
    (date(2026, 2, 16), "ann@example.com", date(2026, 2, 16)),  # round again
    (date(2026, 1, 4), "cy@example.com", date(2025, 12, 22)),  # before the start date too
])
def test_the_duty_moves_on_every_sprint_and_comes_back_round(console_db, day, developer, starts):
    duty = duty_on(console_db, day, CONFIG)
    assert (duty.developer, duty.starts, duty.ends) == (developer, starts, starts + timedelta(days=13))


def test_without_a_configured_rotation_every_active_developer_takes_a_turn(console_db, make_user):
    make_user("developer", email="zed@example.com")
    make_user("developer", email="amy@example.com")
    make_user("developer", email="old@example.com", active=False)
    make_user("agent", email="aaa@example.com")
    config = {"SPRINT_DAYS": 7, "SPRINT_START": date(2026, 1, 5)}
    assert [email for email in rotation(console_db, config) if email in ("amy@example.com", "zed@example.com",
                                                                          "old@example.com", "aaa@example.com")] \
        == ["amy@example.com", "zed@example.com"]
    upcoming = schedule(console_db, date(2026, 1, 7), 3, config)
    assert [(d.starts, d.ends) for d in upcoming] == [(date(2026, 1, 5), date(2026, 1, 11)),
                                                     (date(2026, 1, 12), date(2026, 1, 18)),
                                                     (date(2026, 1, 19), date(2026, 1, 25))]
    assert upcoming[0].developer != upcoming[1].developer


def test_nobody_on_duty_without_developers(console_db):
    assert duty_on(console_db, date(2026, 1, 5), CONFIG, developers=[]) is None


def test_settings_come_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("CONSOLE_SUPPORT_ROTATION", " a@example.com, b@example.com ")
    monkeypatch.setenv("CONSOLE_SPRINT_DAYS", "10")
    config = {"TEAM_CAPACITY_HOURS": 120}
    configure(config)
    assert config["SUPPORT_ROTATION"] == ["a@example.com", "b@example.com"]
    assert (config["SPRINT_DAYS"], config["TEAM_CAPACITY_HOURS"]) == (10, 120.0)
    assert config["SPRINT_START"] == date(2024, 1, 1)


@pytest.mark.parametrize("key, value", [("SPRINT_DAYS", "two weeks"), ("SPRINT_DAYS", "0"),
                                        ("SPRINT_START", "next monday"), ("TEAM_CAPACITY_HOURS", "-5"),
                                        ("TEAM_CAPACITY_HOURS", "lots")])
def test_bad_settings_stop_start_up_with_a_message_naming_them(key, value):
    with pytest.raises(ConfigError, match=key):
        configure({key: value})
