"""Interruptions batched: urgent escalations go out at once, the others in one digest a day."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from console.config import ConfigError
from console.deflection.digest import (
    DigestKeeper, due_day, interruption_rows, interruptions, parse_digest_time, send_digest,
)
from console.deflection.models import EscalationDigest, TicketEvent
from console.deflection.workflow import parse_outcome

DAY = datetime(2026, 3, 10)
T0 = datetime(2026, 3, 2, 9, 0)  # the event fixture's zero


@pytest.fixture
def digest_at(app, monkeypatch):
    def set_time(value):
        monkeypatch.setitem(app.config, "DIGEST_TIME", parse_digest_time(value))
        monkeypatch.setitem(app.config, "DISPLAY_TIMEZONE", "UTC")
    set_time("09:00")
    return set_time


def escalate(event, ref, hour, *, urgent=False, assignee="dev@example.com", **fields):
    minutes = (DAY + timedelta(hours=hour) - T0).total_seconds() / 60
    return event(ref, "escalated", minutes, escalation_class="small_change", category="orders", urgent=urgent,
                 assignee=assignee, **fields)


@pytest.mark.parametrize("value, expected", [("09:30", time(9, 30)), (" 7:05 ", time(7, 5)), ("off", None),
                                             ("", None)])
def test_the_digest_time_is_a_time_of_day_or_off(value, expected):
    assert parse_digest_time(value) == expected


@pytest.mark.parametrize("value", ["9am", "25:00", "09:61", "nine"])
def test_a_bad_digest_time_stops_start_up_naming_the_setting(value):
    with pytest.raises(ConfigError, match="CONSOLE_DIGEST_TIME"):
        parse_digest_time(value)


def test_the_digest_is_due_from_its_time_in_the_display_zone(app, digest_at, monkeypatch):
    with app.app_context():
        assert due_day(datetime(2026, 3, 10, 8, 59)) is None
        assert due_day(datetime(2026, 3, 10, 9, 0)) == date(2026, 3, 10)
        monkeypatch.setitem(app.config, "DISPLAY_TIMEZONE", "Europe/Berlin")  # UTC+1 in March
        assert due_day(datetime(2026, 3, 10, 8, 0)) == date(2026, 3, 10)
        digest_at("off")
        assert due_day(datetime(2026, 3, 10, 23, 0)) is None


def test_only_an_urgent_escalation_interrupts_at_once(app, console_db, event, webhook_outbox, digest_at):
    escalate(event, "T-1", 1)
    escalate(event, "T-2", 2, urgent=True)
    console_db.commit()
    assert [(kind, text.split(" for ")[0]) for kind, text in webhook_outbox()] == [
        ("escalation.created", "URGENT: new escalation on ticket T-2 (small_change, orders)")]
    batched = dict(console_db.execute(select(TicketEvent.urgent, TicketEvent.batched)
                                      .where(TicketEvent.kind == "escalated")).all())
    assert batched == {False: True, True: False}


def test_with_digests_off_every_escalation_is_sent_at_once(app, console_db, event, webhook_outbox, digest_at):
    digest_at("off")
    escalate(event, "T-3", 1)
    console_db.commit()
    assert [kind for kind, _ in webhook_outbox()] == ["escalation.created"]


def test_the_digest_lists_each_developers_waiting_escalations_once_a_day(app, console_db, event, webhook_outbox,
                                                                          digest_at):
    escalate(event, "T-4", 1)
    escalate(event, "T-5", 2, assignee="other@example.com")
    escalate(event, "T-6", 3, urgent=True)  # already sent: not in the digest
    console_db.commit()
    with app.app_context():
        assert send_digest(console_db, DAY + timedelta(hours=8)) is None  # before 09:00
        digest = send_digest(console_db, DAY + timedelta(hours=9, minutes=1))
        console_db.commit()
        assert (digest.day, digest.escalations, digest.developers) == (date(2026, 3, 10), 2, 2)
        assert send_digest(console_db, DAY + timedelta(hours=10)) is None  # once a day
    digests = [text for kind, text in webhook_outbox() if kind == "escalation.digest"]
    assert digests == ["Daily digest for dev@example.com: 1 escalations waiting: T-4 (small change, orders)",
                       "Daily digest for other@example.com: 1 escalations waiting: T-5 (small change, orders)"]


def test_the_next_digest_covers_only_what_came_after_the_last(app, console_db, event, webhook_outbox, digest_at):
    escalate(event, "T-7", 1)
    console_db.commit()
    with app.app_context():
        send_digest(console_db, DAY + timedelta(hours=9))
        console_db.commit()
    escalate(event, "T-8", 12)
    console_db.commit()
    with app.app_context():
        second = send_digest(console_db, DAY + timedelta(days=1, hours=9))
        console_db.commit()
    assert second.covers_from == DAY + timedelta(hours=9)
    assert [text for kind, text in webhook_outbox() if kind == "escalation.digest"][-1].endswith("T-8 (small change, orders)")


def test_two_workers_send_one_digest_a_day(isolated_app):
    """The day is unique: the second keeper's insert fails and it sends nothing."""
    app = isolated_app(DIGEST_TIME="00:00")
    first, second = DigestKeeper(app), DigestKeeper(app)
    made = [first.check_once(), second.check_once()]
    assert [digest is not None for digest in made] == [True, False]
    with app.app_context():
        from console.db import console_session
        assert console_session().scalar(select(EscalationDigest.day)) == made[0].day


def test_interruptions_per_day_before_digests_and_since(app, console_db, event, digest_at):
    digest_at("off")
    escalate(event, "T-9", -48)  # two days before: sent at once
    escalate(event, "T-10", -47)
    console_db.commit()
    digest_at("09:00")
    escalate(event, "T-11", 1)
    escalate(event, "T-12", 2)
    escalate(event, "T-13", 3, urgent=True)
    console_db.commit()
    with app.app_context():
        send_digest(console_db, DAY + timedelta(hours=9))
        console_db.commit()
        report = interruptions(console_db, date(2026, 3, 6), date(2026, 3, 11))
    rows = {row["developer"]: row for row in interruption_rows(report)}
    mine = rows["dev@example.com"]
    assert report.switch == date(2026, 3, 9)  # the first digest covered the day before it
    assert (report.before_days, report.after_days) == (3, 3)
    assert (mine["before"], mine["after_urgent"], mine["after_digests"], mine["after"]) == (2, 1, 1, 2)
    assert mine["before_per_day"] == 0.67 and mine["after_per_day"] == 0.67
    assert mine["after_without_digests_per_day"] == 1.0  # three escalations would have been three interruptions


@pytest.mark.parametrize("value, urgent", [(True, True), ("on", True), ("1", True), (None, False), ("", False),
                                           (False, False)])
def test_urgent_is_a_yes_or_no_field(value, urgent):
    parsed = parse_outcome({"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": "a task", "urgent": value})
    assert parsed.urgent is urgent


def test_a_bad_urgent_value_is_named():
    from console.deflection.ticket_refs import TicketError
    with pytest.raises(TicketError) as caught:
        parse_outcome({"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": "a task", "urgent": "maybe"})
    assert caught.value.field == "urgent"


def test_the_api_takes_urgent_and_shows_it(app, client, api_token, console_db, webhook_outbox, digest_at):
    _user, headers = api_token("agent")
    answer = client.post("/api/v1/tickets/T-20/outcome", headers=headers,
                         json={"outcome": "escalated", "escalation_class": "specialist", "missing_tool": "a task", "urgent": True})
    assert answer.status_code in (200, 201), answer.get_json()
    events = client.get("/api/v1/tickets/T-20", headers=headers).get_json()
    assert [e.get("urgent") for e in events["ticket"]["events"] if e["kind"] == "escalated"] == [True]
    assert [kind for kind, _ in webhook_outbox()] == ["escalation.created"]
    bad = client.post("/api/v1/tickets/T-21/outcome", headers=headers,
                      json={"outcome": "escalated", "escalation_class": "specialist", "missing_tool": "a task", "urgent": "soon"})
    assert bad.status_code == 400 and "urgent" in bad.get_data(as_text=True)


def test_the_escalation_form_marks_it_urgent_and_the_on_duty_page_counts_interruptions(
        app, client, auth, login_as, make_user, console_db, webhook_outbox, digest_at, monkeypatch):
    developer = make_user("developer", email="duty-dev@example.com")
    monkeypatch.setitem(app.config, "SUPPORT_ROTATION", [developer.email])
    login_as("agent")
    ticket_page = client.get("/admin/tickets/view?ref=HD-77").get_data(as_text=True)
    assert 'name="urgent"' in ticket_page and "one daily digest" in ticket_page
    for ref, urgent in (("HD-77", "1"), ("HD-78", None)):
        data = {"ref": ref, "escalation_class": "small_change", "category": "orders", "missing_tool": "a task",
                "csrf_token": auth.csrf()}
        if urgent:
            data["urgent"] = urgent
        assert client.post("/admin/tickets/escalate", data=data).status_code == 302
    flags = dict(console_db.execute(select(TicketEvent.urgent, TicketEvent.batched)).all())
    assert flags == {True: False, False: True}
    assert [kind for kind, _ in webhook_outbox()] == ["escalation.created"]
    assert "urgent" in client.get("/admin/tickets/view?ref=HD-77").get_data(as_text=True)
    auth.logout()
    auth.login(developer.email)
    on_duty = client.get("/admin/on-duty/").get_data(as_text=True)
    assert "Interruptions per developer per day" in on_duty and "duty-dev@example.com" in on_duty
    assert "one digest a day at 09:00 (CONSOLE_DIGEST_TIME)" in on_duty


def test_developers_see_which_escalations_are_urgent_and_agents_when_they_are_told(
        app, client, auth, login_as, make_user, console_db, digest_at, monkeypatch):
    developer = make_user("developer", email="duty-dev@example.com")
    monkeypatch.setitem(app.config, "SUPPORT_ROTATION", [developer.email])
    login_as("agent")
    told = {}
    for ref, urgent in (("HD-90", "1"), ("HD-91", None)):
        data = {"ref": ref, "escalation_class": "knowledge", "missing_tool": "a task", "csrf_token": auth.csrf()}
        if urgent:
            data["urgent"] = urgent
        told[ref] = client.post("/admin/tickets/escalate", data=data, follow_redirects=True).get_data(as_text=True)
    assert "They are notified now." in told["HD-90"]
    assert "they will see it in the daily digest at 09:00" in told["HD-91"]
    auth.logout()
    auth.login(developer.email)
    for html in (client.get("/admin/on-duty/").get_data(as_text=True), client.get("/admin/").get_data(as_text=True)):
        urgent_row = html[html.index("HD-90"):].split("</tr>")[0]
        calm_row = html[html.index("HD-91"):].split("</tr>")[0]
        assert ">urgent</span>" in urgent_row and ">urgent</span>" not in calm_row
