"""The SQL forms of the canonical entry agree with Python's, and a disagreement never decides a verdict."""
import hashlib


from console.audit import rehash
from console.audit.checkpoints import policy_from_config
from console.audit.verify import verify_trail

TRICKY = ['"quoted"', "back\\slash", "new\nline", "cr\rlf", "tab\there", "bs\bff\f", "\x01\x1f\x7f", "caf\u00e9",
          "\u2603 snow", "\U0001f600 face", "line\u2028sep\u2029", "\ufeffbom", "</script><b>", "it's", "%s %(x)s",
          ":name ?", "{}[]", "", " leading and trailing ", "\u0000 was nul"]


def tricky_trail(trail):
    made = trail()
    for n, text in enumerate(TRICKY):
        made.record(1, actor=f"{text}@example.com", action=text[:60], subject_type=text[:40], subject_id=text,
                    ticket=text, reason=text * 3, task=text, customer=text, outcome=text[:30],
                    details={"text": text, text: [text, n, 1.5, None, True]})
    return made


def test_the_sql_form_matches_python_for_awkward_text(trail, monkeypatch):
    made = tricky_trail(trail)

    def no_recheck(conn, seq):
        raise AssertionError(f"seq {seq}: the SQL form disagreed with Python")

    monkeypatch.setattr(rehash, "recheck", no_recheck)
    with made.engine.connect() as conn, conn.begin():
        rows, hashing = rehash.fast_rows(conn, 7)
        try:
            for seq, _prev, chain_hash, proof in rows:
                assert (hashlib.sha256(proof).hexdigest() == chain_hash) if hashing else proof, seq
        finally:
            rows.close()
    assert made.verify()[0] == 0


def flag_everything(monkeypatch):
    """Make the SQL form disagree on every entry, as a quirk of some database version might."""
    monkeypatch.setattr(rehash, "_SQLITE_PROOF", rehash._SQLITE_PROOF.replace("CAST(prev_hash ||", "CAST('x' ||"))
    monkeypatch.setattr(rehash, "_POSTGRES_SUSPECTS", "SELECT seq FROM audit_entries ORDER BY seq")


def test_a_disagreeing_sql_form_is_settled_in_python(trail, monkeypatch):
    made = trail()
    made.record(6)
    flag_everything(monkeypatch)
    code, output = made.verify()
    assert code == 0 and output.startswith("OK 6 entries")
    made.drop_triggers()
    made.sql("UPDATE audit_entries SET reason = 'edited' WHERE seq = 4")
    assert made.first_bad_seq() == 4


def test_too_many_false_alarms_switch_to_the_python_pass(trail, monkeypatch):
    made = trail()
    made.record(6)
    flag_everything(monkeypatch)
    monkeypatch.setattr(rehash, "MAX_FALSE_ALARMS", 2)
    result = verify_trail(made.engine, made.app.config["CONSOLE_AUDIT_KEY"], policy=policy_from_config(made.app.config))
    assert result.ok and result.entries == 6
