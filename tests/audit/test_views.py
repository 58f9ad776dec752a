"""The audit trail in Flask-Admin: read-only, filtered, keyset-paged, escaped, exported with care."""
import csv
import html
import io
import re

import pytest
from sqlalchemy import event, func, select

from console.audit.chain import record_event
from console.audit.models import AuditEntry


@pytest.fixture
def add(app, console_db):
    """add(**fields) -> the new entry, committed into the test's rolled-back transaction."""

    def make(**fields):
        values = {"actor": "agent@example.com", "action": "task.run"} | fields
        with app.app_context():
            return record_event(console_db, **values)

    return make


CHANGE = {"changes": [{"table": "customers", "key": {"id": 42},
                       "before": {"status": "locked", "email": "locked@example.com"},
                       "after": {"status": "active", "email": "locked@example.com"}}],
          "params": {"email": "locked@example.com"}}


@pytest.mark.parametrize("role, status", [("agent", 403), ("product_owner", 403), ("lead", 200),
                                          ("developer", 200), ("admin", 200)])
def test_only_roles_that_read_the_audit_see_it(login_as, client, add, role, status):
    entry = add()
    login_as(role)
    for path in ("/admin/audit/", f"/admin/audit/entry/{entry.seq}", "/admin/audit/export.csv"):
        assert client.get(path).status_code == status, path


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_view_offers_no_way_to_change_anything(app, login_as, client, add, auth, console_db):
    entry = add(reason="keep me")
    login_as("admin")
    token = auth.csrf("/admin/audit/")
    form = {"csrf_token": token, "id": str(entry.seq), "rowid": str(entry.seq), "action": "delete"}
    for path in ("/admin/audit/delete/", "/admin/audit/action/", f"/admin/audit/edit/?id={entry.seq}",
                 "/admin/audit/new/", f"/admin/audit/entry/{entry.seq}", "/admin/audit/"):
        assert client.post(path, data=form).status_code in (404, 405), path
    assert console_db.get(AuditEntry, entry.seq).reason == "keep me"
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/audit")]
    writable = {rule.rule for rule in rules if rule.methods - {"GET", "HEAD", "OPTIONS"}}
    assert writable == {"/admin/audit/verify"}
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert not re.search(r"/admin/audit/(delete|edit|new|action)", html)
    assert not re.search(r'<form[^>]*method="post"[^>]*action="/admin/audit', html, re.IGNORECASE)


def test_filters_narrow_the_list(login_as, client, add):
    add(actor="lead@example.com", task="refund_order", ticket="T-1", customer="alice@example.com",
        outcome="succeeded", reason="refund one")
    add(actor="agent@example.com", task="unlock_account", ticket="T-2", customer="locked@example.com",
        outcome="failed", reason="unlock two")
    add(actor="agent@example.com", action="login", reason="plain login")
    login_as("lead")

    def reasons(**args):
        html = client.get("/admin/audit/", query_string=args).get_data(as_text=True)
        return {text for text in ("refund one", "unlock two", "plain login") if text in html}

    assert reasons() == {"refund one", "unlock two", "plain login"}
    assert reasons(actor="lead@example.com") == {"refund one"}
    assert reasons(task="unlock_account") == {"unlock two"}
    assert reasons(ticket="T-1") == {"refund one"}
    assert reasons(customer="locked@example.com") == {"unlock two"}
    assert reasons(outcome="failed") == {"unlock two"}
    assert reasons(action="login") == {"plain login"}
    assert reasons(actor="agent@example.com", outcome="failed") == {"unlock two"}


def test_a_date_range_selects_by_day(login_as, client, add):
    from console.db import utcnow

    add(reason="today's entry")
    today = utcnow().date()
    login_as("lead")
    html = client.get("/admin/audit/", query_string={"from": today.isoformat(), "to": today.isoformat()}).data
    assert b"today&#39;s entry" in html
    html = client.get("/admin/audit/", query_string={"to": "2000-01-01"}).get_data(as_text=True)
    assert "today&#39;s entry" not in html and "No entries match." in html


@pytest.mark.parametrize("args, words", [
    ({"from": "31/01/2026"}, "From date must be a date written YYYY-MM-DD, not '31/01/2026'."),
    ({"to": "2026-02-30"}, "To date must be a date written YYYY-MM-DD, not '2026-02-30'."),
    ({"from": "2026-02-02", "to": "2026-02-01"}, "From date (2026-02-02) is after To date (2026-02-01)."),
    ({"from": "0001-01-01"}, "From date must be a date from 2000-01-01 to 2100-12-31, not 0001-01-01."),
    ({"to": "9999-12-31"}, "To date must be a date from 2000-01-01 to 2100-12-31, not 9999-12-31."),
    ({"from": "garbage"}, "From date must be a date written YYYY-MM-DD, not 'garbage'."),
    ({"before": "abc"}, "The older-page link must be a whole number from 0 to 2147483647 (a seq), not 'abc'."),
    ({"at": "-3"}, "Go to seq must be a whole number from 0 to 2147483647 (a seq), not '-3'."),
    ({"after": "\u00b2"}, "The newer-page link must be a whole number from 0 to 2147483647 (a seq), not '\u00b2'."),
    ({"before": str(2**31)}, "The older-page link must be a whole number from 0 to 2147483647 (a seq), not '2147483648'."),
    ({"ticket": "T\x00"}, "Ticket contains a NUL character."),
    ({"actor": "x" * 300}, "Actor is longer than 254 characters.")])
def test_bad_filter_values_name_the_field_as_the_form_labels_it(login_as, client, args, words):
    login_as("lead")
    cursor = {"before", "after", "at"} & set(args)  # the export takes every match, so it reads no cursor
    for path in ("/admin/audit/",) if cursor else ("/admin/audit/", "/admin/audit/export.csv"):
        response = client.get(path, query_string=args)
        assert response.status_code == 400, path
        page = html.unescape(response.get_data(as_text=True))
        alert = page.split('class="alert alert-danger"', 1)[1].split("</div>", 1)[0]
        assert alert == f' role="alert">{words}', path
        if path == "/admin/audit/":  # nothing was searched: no empty table saying nothing matched
            assert "No entries match" not in page and "<table" not in page


def test_pages_are_keyset_without_count_or_offset(app, login_as, client, add):
    login_as("lead")
    first = add(reason="entry 0").seq
    for n in range(1, 120):
        add(reason=f"entry {n}")
    statements = []
    engine = app.extensions["console_db"].console_engine

    def capture(conn, cursor, statement, parameters, *args):
        # SQLite's dialect writes "LIMIT ? OFFSET ?" with an offset of 0 (a no-op); a real skip is not.
        skips = "OFFSET" in statement.upper() and not (isinstance(parameters, (list, tuple)) and parameters[-1] == 0)
        statements.append(statement.upper().replace("OFFSET ?", "") + (" OFFSET" if skips else ""))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        top = client.get("/admin/audit/").get_data(as_text=True)
        older = re.search(r'href="([^"]*before=(\d+)[^"]*)"', top)
        second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    seqs_top = [int(s) for s in re.findall(r'/admin/audit/entry/(\d+)"', top)]
    seqs_second = [int(s) for s in re.findall(r'/admin/audit/entry/(\d+)"', second)]
    assert seqs_top == list(range(first + 119, first + 69, -1))
    assert int(older.group(2)) == first + 70
    assert seqs_second == list(range(first + 69, first + 19, -1))
    newer = re.search(r'href="([^"]*after=(\d+)[^"]*)"', second)
    assert int(newer.group(2)) == first + 69
    back = client.get(newer.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert [int(s) for s in re.findall(r'/admin/audit/entry/(\d+)"', back)] == seqs_top
    audit_reads = [s for s in statements if "AUDIT_ENTRIES" in s]
    assert audit_reads
    assert not any("COUNT(" in s or "OFFSET" in s for s in audit_reads)


def test_an_entry_shows_its_changes_side_by_side(login_as, client, add):
    entry = add(task="unlock_account", details=CHANGE, reason="customer called")
    login_as("lead")
    html = client.get(f"/admin/audit/entry/{entry.seq}").get_data(as_text=True)
    row = re.search(r'<tr class="diff-changed">\s*<th scope="row" data-column="status">Status</th>\s*'
                    r'<td class="diff-before"[^>]*>locked</td>\s*<td class="diff-after"[^>]*>active</td>', html)
    assert row, html
    assert re.search(r'<tr class="text-muted">\s*<th scope="row" data-column="email">Email</th>', html)
    assert "1 field changed" in html and "customers" in html and "id=42" in html
    assert "The content matches its hash." in html


def test_an_entry_masks_personal_data_and_still_verifies(app, login_as, client, add, console_db):
    entry = add(task="unlock_account", details=CHANGE | {"result": "Unlocked locked@example.com"},
                customer="locked@example.com", reason="locked@example.com called about the lock")
    login_as("lead")
    html = client.get(f"/admin/audit/entry/{entry.seq}").get_data(as_text=True)
    assert "locked@example.com" not in html
    assert html.count("lo•••d@e•••.com") >= 4  # customer, reason, params, the diff and the result
    assert "The content matches its hash." in html
    listing = client.get("/admin/audit/", query_string={"customer": "locked@example.com"}).get_data(as_text=True)
    row = re.search(rf'href="/admin/audit/entry/{entry.seq}".*?</tr>', listing, re.S).group(0)
    assert "locked@example.com" not in row and "lo•••d@e•••.com" in row
    console_db.expire_all()
    assert console_db.get(AuditEntry, entry.seq).customer == "locked@example.com"  # stored as written
    with app.app_context():
        from console.audit.rehash import python_matches

        assert python_matches(console_db.get(AuditEntry, entry.seq))


def test_everything_shown_is_escaped(login_as, client, add):
    attack = '<script>alert("x")</script>'
    entry = add(reason=attack, actor=attack, ticket=attack,
                details={"changes": [{"table": attack, "key": {"id": attack}, "before": {attack: attack},
                                      "after": {attack: "<img src=x onerror=alert(1)>"}}], "note": attack})
    login_as("lead")
    for path in ("/admin/audit/", f"/admin/audit/entry/{entry.seq}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_export_is_streamed_neutralised_and_audited(login_as, client, add, console_db):
    for value in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tTAB", "\rCR", "plain"):
        add(reason=value, ticket="T-EXPORT")
    user = login_as("lead")
    response = client.get("/admin/audit/export.csv", query_string={"ticket": "T-EXPORT"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["reason"] for row in rows] == ["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "'\tTAB", "'\rCR", "plain"]
    assert {row["ticket"] for row in rows} == {"T-EXPORT"}
    export = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")).all()[-1]
    assert export.actor == user.email and '"ticket":"T-EXPORT"' in export.details


def test_export_with_a_bad_filter_is_refused_and_not_audited(login_as, client, console_db):
    login_as("lead")
    before = console_db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "audit.export"))
    response = client.get("/admin/audit/export.csv", query_string={"from": "yesterday"})
    assert response.status_code == 400
    after = console_db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "audit.export"))
    assert after == before


@pytest.mark.parametrize("seq", [987654, 2**31, 10**20])
def test_an_unknown_entry_is_a_clear_404(login_as, client, seq):
    login_as("lead")
    response = client.get(f"/admin/audit/entry/{seq}")
    assert response.status_code == 404
    assert f"No audit entry {seq}" in response.get_data(as_text=True)


def test_the_far_ends_of_the_supported_range_and_of_seq_are_fine(login_as, client):
    login_as("lead")
    for args in ({"from": "2000-01-01", "to": "2100-12-31"}, {"at": str(2**31 - 1)}, {"after": str(2**31 - 1)}):
        assert client.get("/admin/audit/", query_string=args).status_code == 200, args
