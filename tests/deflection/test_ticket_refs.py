"""TICKET_REF_PATTERN and HELPDESK_URL_TEMPLATE: one rule for every reference, links to the helpdesk."""
import pytest

from console.config import ConfigError
from console.deflection import configure
from console.deflection.ticket_refs import TicketError, clean_ref, helpdesk_url

HELPDESK = "https://acme.zendesk.com/agent/tickets/{ref}"


@pytest.mark.parametrize("ref", ["HD-1", "T_2", "#301", "a.b", "x" * 40, " HD-7 "])
def test_the_default_pattern_takes_letters_digits_and_four_marks(app, ref):
    with app.app_context():
        assert clean_ref(ref) == ref.strip()


@pytest.mark.parametrize("ref", ["x" * 41, "HD 7", "HD/7", "<b>", "é1", "a\nb", "", None, 7])
def test_anything_else_is_refused_naming_the_ticket(app, ref):
    with app.app_context(), pytest.raises(TicketError) as caught:
        clean_ref(ref)
    assert caught.value.field == "ticket"


def test_a_configured_pattern_is_the_rule_and_is_named(app, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_REF_PATTERN", r"T-[0-9]{3}")
    with app.app_context():
        assert clean_ref("T-101") == "T-101"
        with pytest.raises(TicketError, match=r"TICKET_REF_PATTERN \(T-\[0-9\]\{3\}\)"):
            clean_ref("HD-1")


def test_a_pasted_helpdesk_url_becomes_its_reference(app, monkeypatch):
    monkeypatch.setitem(app.config, "HELPDESK_URL_TEMPLATE", HELPDESK)
    with app.app_context():
        for pasted in ("https://acme.zendesk.com/agent/tickets/4711", "https://ACME.zendesk.com/agent/tickets/4711/",
                       "https://acme.zendesk.com/agent/tickets/4711?view=full#comment"):
            assert clean_ref(pasted) == "4711", pasted
        with pytest.raises(TicketError):  # another site's link is no reference
            clean_ref("https://evil.example/agent/tickets/4711")
        assert helpdesk_url("HD#1") == "https://acme.zendesk.com/agent/tickets/HD%231"


def test_without_a_template_nothing_is_a_link(app):
    with app.app_context():
        assert helpdesk_url("HD-1") is None
        with pytest.raises(TicketError):
            clean_ref("https://acme.zendesk.com/agent/tickets/4711")


@pytest.mark.parametrize("settings, says", [
    ({"TICKET_REF_PATTERN": "[a-"}, "TICKET_REF_PATTERN is not a regular expression"),
    ({"TICKET_REF_PATTERN": "[a-z]*"}, "TICKET_REF_PATTERN matches an empty reference"),
    ({"HELPDESK_URL_TEMPLATE": "acme.zendesk.com/{ref}"}, "HELPDESK_URL_TEMPLATE must be an http:// or https://"),
    ({"HELPDESK_URL_TEMPLATE": "https://{ref}.example.com/"}, "HELPDESK_URL_TEMPLATE must be an http:// or https://"),
    ({"HELPDESK_URL_TEMPLATE": "https://acme.zendesk.com/tickets"}, "must contain {ref} exactly once"),
])
def test_start_up_refuses_a_bad_setting_in_one_line(settings, says):
    with pytest.raises(ConfigError) as caught:
        configure(dict(settings))
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_the_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TICKET_REF_PATTERN", r"[0-9]+")
    config = {"HELPDESK_URL_TEMPLATE": HELPDESK}
    configure(config)
    assert (config["TICKET_REF_PATTERN"], config["HELPDESK_URL_TEMPLATE"]) == ("[0-9]+", HELPDESK)


def test_a_bad_reference_is_refused_wherever_it_is_taken(client, auth, login_as, api_token):
    _user, headers = api_token("lead")
    bad = "HD 7"
    answers = [
        client.post(f"/api/v1/tickets/{bad}/outcome", json={"outcome": "resolved"}, headers=headers),
        client.get(f"/api/v1/tickets/{bad}", headers=headers),
        client.post("/api/v1/tasks/unlock_account/runs", json={"params": {"email": "a@example.com"}, "ticket": bad,
                                                              "reason": "asked"}, headers=headers),
        client.post("/api/v1/records/customers/1/reveal", json={"reason": "checking the address", "ticket": bad},
                    headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 400 and "ticket" in answer.get_json()["error"]["fields"], answer.get_json()
    login_as("agent")
    page = client.post("/admin/tickets/resolve", data={"ref": bad, "csrf_token": auth.csrf()})
    assert page.status_code == 400


def test_the_ticket_page_offers_only_what_its_state_allows(client, login_as, event):
    event("ST-1", "runbook_viewed", 0)
    event("ST-2", "escalated", 0, escalation_class="knowledge")
    event("ST-3", "resolved", 0)
    login_as("agent")

    def offered(ref):
        html = client.get("/admin/tickets/view", query_string={"ref": ref}).get_data(as_text=True)
        return {name for name, button in (("resolve", ">Mark resolved<"), ("escalate", ">Escalate<"),
                                          ("reopen", ">Reopen<")) if button in html}

    assert offered("ST-1") == {"resolve", "escalate"}
    assert offered("ST-2") == {"resolve"}  # never "escalate again"
    assert offered("ST-3") == {"reopen"}
    assert offered("ST-NEW") == {"resolve", "escalate"}
