"""Several teams share the rotation: escalations route by category to the right team's person on duty."""
from datetime import date, datetime

import pytest

from console.config import ConfigError
from console.deflection.rotation import category_teams, check_teams, duties_now, duty_for

START = date(2026, 1, 5)


@pytest.fixture
def crews(make_user):
    for email, team in (("pay1@example.com", "billing"), ("pay2@example.com", "billing"),
                        ("core1@example.com", "platform"), ("core2@example.com", "platform"),
                        ("core3@example.com", "platform")):
        make_user("developer", email=email, team=team)
    make_user("developer", email="gone@example.com", team="billing", active=False)


def config(**extra):
    return {"SPRINT_DAYS": 14, "SPRINT_START": START, "SUPPORT_ROTATION": [],
            "CATEGORY_TEAMS": "payments=billing, orders=billing, account=platform", **extra}


def test_pairs_are_read_lower_cased():
    assert category_teams({"CATEGORY_TEAMS": " Payments = Billing ,account=platform"}) == {
        "payments": "billing", "account": "platform"}


@pytest.mark.parametrize("day, category, developer, team", [
    (date(2026, 1, 6), "payments", "pay1@example.com", "billing"),
    (date(2026, 1, 6), "orders", "pay1@example.com", "billing"),
    (date(2026, 1, 20), "payments", "pay2@example.com", "billing"),  # the next sprint: the next person
    (date(2026, 2, 3), "payments", "pay1@example.com", "billing"),  # round again; the disabled one is skipped
    (date(2026, 1, 6), "account", "core1@example.com", "platform"),
    (date(2026, 2, 3), "account", "core3@example.com", "platform"),
])
def test_each_team_has_its_own_person_on_duty_per_sprint(console_db, crews, day, category, developer, team):
    duty = duty_for(console_db, day, category, config())
    assert (duty.developer, duty.team) == (developer, team)


def test_a_category_no_team_answers_goes_to_the_single_rotation(console_db, crews):
    duty = duty_for(console_db, date(2026, 1, 6), "privacy", config(SUPPORT_ROTATION=["core2@example.com"]))
    assert (duty.developer, duty.team) == ("core2@example.com", "")


def test_with_teams_taking_turns_one_team_has_the_whole_sprint(console_db, crews):
    by_team = config(DUTY_BY="team")
    first = [duty_for(console_db, date(2026, 1, 6), category, by_team) for category in ("payments", "account", "")]
    assert {(d.team, d.developer) for d in first} == {("billing", "pay1@example.com")}
    second = duty_for(console_db, date(2026, 1, 20), "payments", by_team)
    assert (second.team, second.developer) == ("platform", "core1@example.com")
    third = duty_for(console_db, date(2026, 2, 3), "account", by_team)  # billing again, its next person
    assert (third.team, third.developer) == ("billing", "pay2@example.com")


def test_everyone_on_duty_now_is_one_per_team(console_db, crews):
    assert [(d.team, d.developer) for d in duties_now(console_db, date(2026, 1, 6), config())] == [
        ("billing", "pay1@example.com"), ("platform", "core1@example.com")]


def test_an_escalation_is_routed_to_its_categorys_team(app, console_db, crews, event, monkeypatch):
    for key, value in config().items():
        monkeypatch.setitem(app.config, key, value)
    escalation = event("T-40", "escalated", 0, escalation_class="knowledge", category="account")
    assert escalation.assignee == "core2@example.com"  # the event fixture's day is in sprint 4: 4 mod 3 = 1
    other = event("T-41", "escalated", 0, escalation_class="knowledge", category="payments")
    assert other.assignee == "pay1@example.com"  # 4 mod 2 = 0


@pytest.mark.parametrize("settings, message", [
    ({"CATEGORY_TEAMS": "payments=nobody"}, "team 'nobody' has no enabled developer"),
    ({"CATEGORY_TEAMS": "payments"}, "category=team pairs"),
    ({"DUTY_BY": "squad"}, "CONSOLE_DUTY_BY must be person or team"),
])
def test_a_bad_team_setting_stops_start_up_naming_it(console_db, crews, settings, message):
    with pytest.raises(ConfigError, match=message):
        check_teams(console_db, config(**settings))


def test_without_category_teams_nothing_changes(console_db, crews):
    plain = {"SPRINT_DAYS": 14, "SPRINT_START": START, "SUPPORT_ROTATION": ["core2@example.com"]}
    check_teams(console_db, plain)
    assert duty_for(console_db, datetime(2026, 1, 6, 10), "payments", plain).developer == "core2@example.com"
