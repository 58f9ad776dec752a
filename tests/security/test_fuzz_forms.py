"""Fuzz every browser form: the forms are read off the pages themselves, then sent back filled with hostile values.

Each example starts from the same data (the demo shop, a ticket in progress, a pending run), submits one form
as a logged-in admin or agent (or anonymously, for the login form) and checks that the answer is never a 5xx,
that a refused form wrote nothing to the product database, and that the audit chain still verifies.
FUZZ_SCALE scales the number of cases; FUZZ_SEED picks them (tests.security._strategies).
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

from hypothesis import given, strategies as st
from sqlalchemy import select

from admin_tasks.shop_schema import Customer
from console.audit.models import AuditEntry
from tests.conftest import AuthActions, csrf_token_from
from tests.security._invariants import Snapshot, assert_unchanged, chain_problems, connections, rolled_back
from tests.security._strategies import (EXTREME_DATES, any_json, fuzz_settings, mostly, nasty_text, next_values,
                                        numbers, odd_text)


class _Forms(HTMLParser):
    """The <form>s of a page: (method, action, [(name, kind, value, options)])."""

    def __init__(self, page: str):
        super().__init__()
        self.page, self.forms, self._fields, self._select = page, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._fields = []
            self.forms.append(((attrs.get("method") or "get").upper(), attrs.get("action") or self.page, self._fields))
        elif self._fields is not None and attrs.get("name") and tag in ("input", "textarea", "select", "button"):
            field = [attrs["name"], attrs.get("type") or tag, attrs.get("value") or "", []]
            self._fields.append(field)
            self._select = field if tag == "select" else None
        elif tag == "option" and self._select is not None:
            self._select[3].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None


# The pages whose forms are fuzzed: every page that has one, filled in with the scene's records.
FORM_PAGES = ["/admin/tasks/{task}/", "/admin/tickets/view?ref=T-FUZZ", "/admin/tickets/", "/admin/runbooks/",
              "/admin/runbooks/cannot-log-in/", "/admin/runs/{run}", "/admin/runs/", "/admin/approvals/",
              "/admin/records/customers/", "/admin/records/customers/{customer}", "/admin/records/orders/", "/admin/records/orders/1004",
              "/admin/audit/", "/admin/deflection/", "/admin/on-duty/", "/admin/staff_users/new/",
              "/admin/api_tokens/issue/"]
TASKS = ["refund_order", "unlock_account", "update_shipping_address", "change_email", "cancel_order"]
SKIPPED_ACTIONS = ("/logout",)  # logging out mid-run would change who the later examples run as


def discover(client, urls) -> list[tuple[str, str, list]]:
    forms = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        parser = _Forms(url)
        parser.feed(response.get_data(as_text=True))
        for method, action, fields in parser.forms:
            action = urlsplit(action).path if method == "POST" else action.split("?")[0]
            if action.startswith("/") and not action.startswith(SKIPPED_ACTIONS):
                names = tuple(sorted(field[0] for field in fields))
                forms.setdefault((method, action, names), fields)
    return [(method, action, fields) for (method, action, _names), fields in sorted(forms.items())]


def _value(draw, name: str, kind: str, value: str, options: list) -> str:
    if kind == "hidden" and value:
        return draw(mostly(st.just(value), odd_text, 6))
    if options:
        return draw(mostly(st.sampled_from(options), odd_text, 4))
    if name in ("from", "to") or kind == "date":
        return draw(st.one_of(st.sampled_from(EXTREME_DATES), odd_text))
    if name == "next":
        return draw(next_values)
    if kind == "number" or name.endswith(("_id", "_cents", "minutes", "seq")) or name in ("limit", "before", "after"):
        return draw(st.one_of(numbers.map(str), odd_text))
    if kind in ("checkbox", "radio", "submit"):
        return draw(mostly(st.just(value or "y"), odd_text, 4))
    return draw(st.one_of(st.just(value), odd_text, st.sampled_from(["T-1", "alice@example.com", "customer asked"])))


@st.composite
def filled(draw, fields, token: str):
    """The form's fields filled in, now and then one dropped or an unknown one added; the CSRF token mostly kept."""
    pairs = []
    for name, kind, value, options in fields:
        if name == "csrf_token":
            pairs.append((name, draw(mostly(st.just(token), odd_text, 12))))
        elif draw(st.sampled_from([True] * 11 + [False])):
            pairs.append((name, _value(draw, name, kind, value, options)))
    if draw(st.sampled_from([False] * 7 + [True])):
        pairs.append((draw(st.one_of(st.sampled_from(["next", "ticket", "reason", "q"]), nasty_text)),
                      draw(st.one_of(odd_text, any_json.map(str)))))
    return urlencode([(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs])


def test_every_form_filled_with_anything(app, client, dbs, demo_shop, login_as, api_token, record_property):
    clients = {"admin": client, "agent": app.test_client(), "anonymous": app.test_client()}
    login_as("admin")
    agent = api_token("agent")[0]
    assert AuthActions(clients["agent"]).login(agent.email).status_code == 302
    # a ticket in progress, and a pending run by the agent that the admin may decide
    token = csrf_token_from(clients["agent"].get("/admin/tickets/").get_data(as_text=True))
    clients["agent"].post("/admin/tickets/start", data={"ref": "T-FUZZ", "csrf_token": token})
    _, headers = api_token("agent")
    run = client.post("/api/v1/tasks/refund_order/runs", headers=headers, json={
        "params": {"order_id": 1004, "amount_cents": 20000}, "ticket": "T-FUZZ", "reason": "fuzz"}).get_json()["run"]
    customer = demo_shop.scalar(select(Customer.id).where(Customer.email == "alice@example.com"))
    urls = [page.format(task=task, run=run["id"], customer=customer) for page in FORM_PAGES
            for task in (TASKS if "{task}" in page else TASKS[:1])]
    forms = [("admin", *form) for form in discover(client, urls)]
    forms += [("anonymous", *form) for form in discover(clients["anonymous"], ["/login", "/login?next=/admin/"])]
    assert len(forms) >= 20, [form[:3] for form in forms]
    tokens = {role: csrf_token_from(c.get("/login" if role == "anonymous" else "/admin/").get_data(as_text=True))
              for role, c in clients.items()}

    console_conn = connections(dbs)[0]
    baseline = Snapshot(dbs, eager=True)
    head, head_hash = console_conn.execute(select(AuditEntry.seq, AuditEntry.hash)
                                           .order_by(AuditEntry.seq.desc()).limit(1)).one()
    tally: dict[str, int] = {}

    @fuzz_settings(1200)
    @given(form=st.sampled_from(forms), as_agent=st.booleans(), data=st.data())
    def fuzz(form, as_agent, data):
        role, method, action, fields = form
        role = "agent" if role == "admin" and as_agent else role
        body = data.draw(filled(fields, tokens[role]))
        what = f"{role} {method} {action} {body[:400]}"
        with rolled_back(dbs):
            if method == "POST":
                response = clients[role].post(action, data=body, content_type="application/x-www-form-urlencoded")
            else:
                response = clients[role].get(f"{action}?{body}")
            page = response.get_data(as_text=True)
            assert response.status_code < 500, f"{what}: answered {response.status_code}: {page[:600]}"
            assert "Traceback" not in page, what
            if response.status_code >= 400:
                assert_unchanged(baseline, Snapshot(dbs), "target", what=what)
            assert not chain_problems(console_conn, head, head_hash), what
        key = f"{method} {action} {response.status_code}"
        tally[key] = tally.get(key, 0) + 1

    fuzz()
    cases = sum(tally.values())
    record_property("fuzz_cases", cases)
    print(f"\n[fuzz] forms: {len(forms)} forms, {cases} cases: " + ", ".join(f"{k}={v}" for k, v in sorted(tally.items())))
    reached = {key.rsplit(" ", 1)[0] for key in tally}
    assert len(reached) >= len({(method, action) for _role, method, action, _fields in forms}) // 2, reached
