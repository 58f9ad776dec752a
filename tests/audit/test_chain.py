"""Appending: the canonical form, the links, the details as stored, and checkpoints on append."""
import enum
import hashlib
import inspect
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from console.audit import chain
from console.audit.chain import GENESIS, append, digest, entry_hash, record_event
from console.audit.checkpoints import signature_matches
from console.audit.models import AuditCheckpoint, AuditEntry
from console.jsontext import REDACTED, canonical_json, encode
from tests.conftest import TEST_AUDIT_KEY

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(fields=st.fixed_dictionaries({name: TEXT for name in (
    "actor", "action", "subject_type", "subject_id", "ticket", "reason", "task", "customer", "outcome", "details")}),
    seq=st.integers(min_value=1, max_value=2**31), prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_the_fast_hash_is_sha256_of_prev_hash_and_canonical_json(fields, seq, prev):
    created_at = "2026-01-31T12:34:56.000001"
    body = json.dumps({**fields, "seq": seq, "created_at": created_at}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    expected = hashlib.sha256((prev + body).encode()).hexdigest()
    assert digest(prev, seq=seq, created_at=created_at, **fields) == expected


def test_append_keeps_the_signature_every_domain_calls():
    parameters = list(inspect.signature(append).parameters.values())
    assert [parameter.name for parameter in parameters[:11]] == [
        "session", "actor", "action", "subject_type", "subject_id", "ticket", "reason", "task", "customer", "outcome",
        "details"]
    # What came later (a write sent with the head's lock) is an option no caller has to give.
    assert all(parameter.kind is parameter.KEYWORD_ONLY and parameter.default is None for parameter in parameters[11:])
    assert "commit" in inspect.signature(record_event).parameters


def test_entries_chain_one_to_the_next(app, console_db):
    start = console_db.scalar(select(func.count()).select_from(AuditEntry))
    with app.app_context():
        first = record_event(console_db, actor="lead@example.com", action="login", subject_type="user",
                             subject_id=7)
        second = record_event(console_db, actor="lead@example.com", action="logout", subject_type="user",
                              subject_id=7)
    assert second.seq == first.seq + 1 == start + 2
    assert first.prev_hash == (GENESIS if start == 0 else console_db.get(AuditEntry, start).hash)
    assert second.prev_hash == first.hash
    for entry in (first, second):
        fields = {name: getattr(entry, name) for name in chain.HASHED_FIELDS}
        assert entry_hash(fields, entry.prev_hash) == entry.hash
    assert first.subject_id == "7"


def test_a_write_sent_with_the_head_lock_is_in_the_entry_transaction(app, console_db):
    """`along`: the caller's write goes with the head's lock (one statement on PostgreSQL) and commits with the
    entry, or rolls back with it."""
    from sqlalchemy import bindparam, insert

    from console.deflection.models import Ticket

    tickets = Ticket.__table__
    opening = insert(tickets).values(ref=bindparam("ref"))
    with app.app_context():
        record_event(console_db, actor="lead@example.com", action="login")  # a head to lock
        entry = record_event(console_db, actor="lead@example.com", action="logout", along=(opening, {"ref": "ALONG-1"}))
        assert console_db.get(AuditEntry, entry.seq).hash == entry.hash
        append(console_db, actor="lead@example.com", action="login", along=(opening, {"ref": "ALONG-2"}))
        console_db.rollback()
        refs = console_db.scalars(select(tickets.c.ref).where(tickets.c.ref.like("ALONG-%"))).all()
        assert refs == ["ALONG-1"]
        assert console_db.scalar(select(func.max(AuditEntry.seq))) == entry.seq


def test_a_new_row_sent_with_the_head_lock_is_the_subject_of_the_first_entry_of_a_trail(trail):
    """(INSERT ... RETURNING id, params, on_id): the row's new id names the entry, even when the trail has no
    head yet (the head is made by the same append)."""
    from sqlalchemy import bindparam, insert

    from console.deflection.models import Ticket

    made = trail()
    tickets = Ticket.__table__
    columns = [column for column in tickets.columns if not column.primary_key]
    # Every column given, as rows.held_insert gives a run's: the model's defaults are not applied to such a write.
    opening = insert(tickets).values({column.key: bindparam(column.key) for column in columns}).returning(tickets.c.id)
    now = datetime(2026, 12, 7, 10, 0)
    values = {column.key: column.default.arg if column.default is not None and not column.default.is_callable else now
              for column in columns}

    def ticket(ref: str) -> dict:
        return {**values, "ref": ref, "closed_at": None, "escalated_at": None, "escalation_closed_at": None}

    given = []
    session = made.dbs.console_factory()
    try:
        with made.app.app_context():
            first = record_event(session, actor="lead@example.com", action="ticket.opened",
                                 along=(opening, ticket("ALONG-NEW-1"), lambda row_id: given.append(row_id) or row_id))
            second = record_event(session, actor="lead@example.com", action="ticket.opened",
                                  along=(opening, ticket("ALONG-NEW-2"), lambda row_id: given.append(row_id) or row_id))
    finally:
        session.close()
    assert (first.seq, first.prev_hash, second.prev_hash) == (1, GENESIS, first.hash)
    ids = dict(made.sql("SELECT ref, id FROM tickets WHERE ref LIKE 'ALONG-NEW-%'"))
    assert given == [ids["ALONG-NEW-1"], ids["ALONG-NEW-2"]]
    assert (first.subject_id, second.subject_id) == (str(given[0]), str(given[1]))
    assert made.verify()[0] == 0


class Colour(enum.Enum):
    RED = "red"


def test_details_are_stored_as_canonical_json_whatever_they_hold(app, console_db):
    details = {
        "nan": float("nan"), "inf": float("-inf"), "when": datetime(2026, 1, 2, 3, 4, 5), "day": date(2026, 1, 2),
        "money": Decimal("12.30"), "tags": {"b", "a"}, "pair": (1, 2), 3: "number key", "colour": Colour.RED,
        "raw": b"\x00\xff", "nested": [{"z": 1, "a": None}], "text": "caf\u00e9 \u2603 \ud83d\ude00 nul:\x00",
        "broken": "lone \ud800 surrogate",
    }
    with app.app_context():
        entry = record_event(console_db, actor="agent@example.com", action="task.run", details=details)
    stored = console_db.scalar(select(AuditEntry.details).where(AuditEntry.seq == entry.seq))
    parsed = json.loads(stored)
    assert canonical_json(parsed) == stored
    assert parsed["nan"] == "nan" and parsed["inf"] == "-inf"
    assert parsed["when"] == "2026-01-02T03:04:05" and parsed["money"] == "12.30"
    assert parsed["tags"] == ["a", "b"] and parsed["pair"] == [1, 2] and parsed["3"] == "number key"
    assert parsed["colour"] == "red" and parsed["raw"] == "00ff"
    assert "\x00" not in parsed["text"] and "\ud800" not in parsed["broken"]


def test_secrets_never_reach_the_trail(app, console_db):
    details = {"params": {"email": "a@example.com", "password": "hunter2", "api_key": "k-123",
                          "new_password": "x", "reset_token": "t", "note": "keep me"},
               "changes": [{"table": "customers", "key": {"id": 1}, "before": {"password_hash": "$argon2$old"},
                            "after": {"password_hash": "$argon2$new"}}],
               "token": None}
    with app.app_context():
        entry = record_event(console_db, actor="agent@example.com", action="task.run", details=details)
    stored = json.loads(entry.details)
    params = stored["params"]
    assert params["password"] == params["api_key"] == params["new_password"] == params["reset_token"] == REDACTED
    assert params["email"] == "a@example.com" and params["note"] == "keep me"
    assert stored["changes"][0]["before"]["password_hash"] == REDACTED
    assert stored["token"] is None
    assert "hunter2" not in entry.details and "argon2" not in entry.details


def test_encoded_params_are_placed_unparsed_unless_a_key_in_them_may_be_secret(app, console_db, monkeypatch):
    clean = encode({"order_id": 1004, "note": "a password_hint"})
    with app.app_context():
        entry = record_event(console_db, actor="agent@example.com", action="task.run", details={"params": clean})
        assert entry.details == canonical_json({"params": json.loads(clean)})
        secret = encode({"email": "a@example.com", "Reset_Token": "t-1"})
        kept = record_event(console_db, actor="agent@example.com", action="task.run", details={"params": secret})
    assert json.loads(kept.details)["params"] == {"email": "a@example.com", "Reset_Token": REDACTED}
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("the clean params were parsed again"))
    with app.app_context():
        again = record_event(console_db, actor="agent@example.com", action="task.run", details={"params": clean})
    monkeypatch.setattr(json, "loads", loads)
    assert json.loads(again.details) == {"params": {"order_id": 1004, "note": "a password_hint"}}


def test_text_fields_are_cut_to_their_columns_and_cleaned(app, console_db):
    with app.app_context():
        entry = record_event(console_db, actor="x" * 300, action="a" * 100, reason="line\x00break",
                             outcome="o" * 50)
    assert len(entry.actor) == 254 and len(entry.action) == 60 and len(entry.outcome) == 30
    assert entry.reason == "line\ufffdbreak"


def test_a_checkpoint_is_signed_every_n_entries(trail):
    made = trail(AUDIT_CHECKPOINT_EVERY=4)
    made.record(10)
    rows = made.sql("SELECT seq, hash, created_at, mac FROM audit_checkpoints ORDER BY seq")
    assert [row.seq for row in rows] == [1, 5, 9]
    for seq in (1, 5, 9):
        entry = made.entry(seq)
        checkpoint = next(row for row in rows if row.seq == seq)
        assert checkpoint.hash == entry.hash
    with made.engine.connect() as conn:
        stored = conn.execute(select(AuditCheckpoint)).all()
    assert all(signature_matches(TEST_AUDIT_KEY, row.seq, row.hash, row.created_at, row.mac) for row in stored)


def test_a_checkpoint_is_signed_when_the_last_is_an_hour_old(trail, monkeypatch):
    made = trail(AUDIT_CHECKPOINT_EVERY=1000)
    made.record(2)
    assert [row.seq for row in made.sql("SELECT seq FROM audit_checkpoints")] == [1]
    later = chain.utcnow() + timedelta(minutes=61)
    monkeypatch.setattr(chain, "utcnow", lambda: later)
    made.record(1)
    assert [row.seq for row in made.sql("SELECT seq FROM audit_checkpoints ORDER BY seq")] == [1, 3]


def test_a_session_without_the_key_appends_without_signing(trail):
    from sqlalchemy.orm import Session

    made = trail()
    with Session(made.engine) as session:
        record_event(session, actor="script@example.com", action="import")
    assert made.count() == 1
    assert made.count("audit_checkpoints") == 0


def test_nothing_is_appended_when_the_caller_rolls_back(app, console_db):
    before = console_db.scalar(select(func.count()).select_from(AuditEntry))
    with app.app_context():
        append(console_db, actor="agent@example.com", action="task.run")
        console_db.rollback()
    assert console_db.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_no_entry_is_written_on_a_connection_in_autocommit(isolated_app):
    # A page's read connection is in autocommit (console.db.console_reads): there the head's lock would hold
    # for one statement, and an entry would stay though what it records were rolled back.
    from sqlalchemy.orm import Session

    from console.audit.batch import append_many
    from console.audit.chain import AuditUnavailable
    from console.engines import READS_ALONE

    app = isolated_app()
    engine = app.extensions["console_db"].console_engine
    def count():
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(AuditEntry))

    with app.app_context():
        before = count()
        for write in (lambda s: append(s, actor="a@example.com", action="test.autocommit"),
                      lambda s: append_many(s, [{"actor": "a@example.com", "action": "test.autocommit"}]),
                      lambda s: record_event(s, actor="a@example.com", action="test.autocommit")):
            for alone in ({"isolation_level": "AUTOCOMMIT"}, {READS_ALONE: True}):
                with Session(engine) as session:
                    session.connection(execution_options=alone)
                    with pytest.raises(AuditUnavailable):
                        write(session)
        with Session(engine) as session:
            append(session, actor="a@example.com", action="test.in_a_transaction")  # the session's own way
            session.commit()
        assert count() == before + 1
