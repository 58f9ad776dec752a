"""The tampering corpus: each case is made with raw SQL, as by someone with rights on the database.

Every trail holds 25 entries with a signed checkpoint every 10 (at seq 1, 11 and 21).
`audit verify` must exit 1 and name the first bad entry as `seq <n>`.
"""
import pytest

from console.audit.chain import GENESIS, canonical_details, digest, timestamp
from console.db import utcnow

ENTRIES = 25


@pytest.fixture
def tampered(trail):
    """A trail of 25 committed entries whose triggers the attacker has already dropped."""
    made = trail()
    made.record(ENTRIES)
    assert made.verify()[0] == 0
    made.drop_triggers()
    return made


def test_an_intact_trail_verifies(trail):
    made = trail()
    made.record(ENTRIES)
    code, output = made.verify()
    assert code == 0
    assert output.splitlines()[0] == f"OK {ENTRIES} entries"
    assert "3 signed checkpoints verified; the newest covers seq 21" in output


def test_a_modified_entry(tampered):
    tampered.sql("UPDATE audit_entries SET reason = 'nothing to see here' WHERE seq = 7")
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 7: modified" in output


def test_a_modified_change_in_details(tampered):
    details = tampered.entry(12).details.replace('"active"', '"locked"')
    tampered.sql("UPDATE audit_entries SET details = :details WHERE seq = 12", details=details)
    assert tampered.first_bad_seq() == 12


def test_a_rewritten_entry_that_the_next_one_no_longer_chains_to(trail):
    made = trail()
    made.record(ENTRIES)
    original_next = made.entry(8)
    made.drop_triggers()
    made.sql("UPDATE audit_entries SET outcome = 'failed' WHERE seq = 7")
    made.rehash(7, head=False)
    made.sql("UPDATE audit_entries SET prev_hash = :prev, hash = :hash WHERE seq = 8",
             prev=original_next.prev_hash, hash=original_next.hash)
    code, output = made.verify()
    assert code == 1
    assert "FAILED seq 7: rewritten" in output


def test_a_deleted_middle_entry(tampered):
    tampered.sql("DELETE FROM audit_entries WHERE seq = 7")
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 7: missing: the trail jumps from seq 6 to seq 8" in output


def test_a_deleted_middle_entry_with_the_rest_renumbered(tampered):
    tampered.sql("DELETE FROM audit_entries WHERE seq = 7")
    tampered.shift(after=7, by=-1)
    tampered.sql("UPDATE audit_head SET seq = seq - 1 WHERE id = 1")
    assert tampered.first_bad_seq() == 7


def test_a_deleted_tail_is_caught_by_the_head_row(tampered):
    tampered.sql("DELETE FROM audit_entries WHERE seq >= 23")
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 23: missing: the head row records seq 25, but the trail ends at seq 22" in output


def test_a_deleted_tail_with_a_rewound_head_is_caught_at_the_next_checkpoint(tampered):
    tampered.sql("DELETE FROM audit_entries WHERE seq >= 15")
    last = tampered.entry(14)
    tampered.sql("UPDATE audit_head SET seq = 14, hash = :hash WHERE id = 1", hash=last.hash)
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 15: missing: the trail ends at seq 14, but the signed checkpoint" in output
    assert "vouches for seq 21" in output


def test_the_documented_window_after_the_newest_checkpoint_and_how_an_anchor_closes_it(tampered):
    """Entries after the newest checkpoint, deleted with the head rewound, leave no trace in the database."""
    anchor = f"25:{tampered.entry(25).hash}"
    tampered.sql("DELETE FROM audit_entries WHERE seq >= 23")
    tampered.sql("UPDATE audit_head SET seq = 22, hash = :hash WHERE id = 1", hash=tampered.entry(22).hash)
    code, output = tampered.verify()
    assert code == 0 and output.startswith("OK 22 entries")
    code, output = tampered.verify("--anchor", anchor)
    assert code == 1
    assert "FAILED seq 23: missing: the trail ends at seq 22, but the --anchor vouches for seq 25" in output


def rewind_head(made, seq: int, checkpoint_seq: int | None) -> None:
    """Point the head row at entry `seq` and note checkpoint `checkpoint_seq` (None: none), as a careful attacker would."""
    noted = made.sql("SELECT created_at FROM audit_checkpoints WHERE seq = :seq", seq=checkpoint_seq)
    made.sql("UPDATE audit_head SET seq = :seq, hash = :hash, checkpoint_seq = :noted, checkpoint_at = :at WHERE id = 1",
             seq=seq, hash=made.entry(seq).hash if seq else GENESIS, noted=checkpoint_seq,
             at=noted[0][0] if noted else None)


def test_deleting_checkpoints_with_the_tail_is_caught_by_an_anchor(tampered):
    anchor = f"21:{tampered.entry(21).hash}"
    tampered.sql("DELETE FROM audit_entries WHERE seq >= 15")
    tampered.sql("DELETE FROM audit_checkpoints WHERE seq >= 15")
    rewind_head(tampered, 14, 11)
    assert tampered.first_bad_seq() is None  # the window docs/AUDIT.md describes
    assert tampered.first_bad_seq("--strict") is None  # checkpoint 11 is recent, and 3 entries follow it
    assert tampered.first_bad_seq("--anchor", anchor) == 15


def test_deleting_checkpoints_with_the_tail_is_caught_by_the_head_row_when_it_still_notes_them(tampered):
    tampered.sql("DELETE FROM audit_entries WHERE seq >= 15")
    tampered.sql("DELETE FROM audit_checkpoints WHERE seq >= 15")
    tampered.sql("UPDATE audit_head SET seq = 14, hash = :hash WHERE id = 1", hash=tampered.entry(14).hash)
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 15: missing: the trail ends at seq 14, but the head row notes a signed checkpoint" in output
    assert "for seq 21" in output


@pytest.fixture
def few(trail):
    """Fewer entries than the policy's EVERY (1000): only the first entry carries a checkpoint."""
    made = trail(AUDIT_CHECKPOINT_EVERY=1000)
    made.record(ENTRIES)
    assert made.count("audit_checkpoints") == 1
    assert made.verify("--strict")[0] == 0
    made.drop_triggers()
    return made


def test_a_rewritten_trail_with_every_checkpoint_deleted_fails_by_the_head_row(few):
    few.sql("UPDATE audit_entries SET reason = 'rewritten history' WHERE seq = 5")
    few.sql("DELETE FROM audit_checkpoints")
    few.rehash(5)
    code, output = few.verify()
    assert code == 1
    assert "FAILED seq 1: the head row notes a signed checkpoint of" in output and "checkpoints were deleted" in output


def test_a_rewritten_trail_with_every_checkpoint_and_the_head_note_deleted_fails_strict(few):
    few.sql("UPDATE audit_entries SET reason = 'rewritten history' WHERE seq = 5")
    few.sql("DELETE FROM audit_checkpoints")
    few.rehash(5)
    rewind_head(few, ENTRIES, None)
    code, output = few.verify()
    assert code == 0  # without --strict, only a warning: the trail may predate CONSOLE_AUDIT_KEY
    assert f"warning: no signed checkpoint covers any of the {ENTRIES} entries" in output
    code, output = few.verify("--strict")
    assert code == 1
    assert f"FAILED seq 1: no signed checkpoint covers any of the {ENTRIES} entries" in output


def test_an_inserted_entry(tampered):
    tampered.shift(after=7, by=1)
    forged = {"seq": 8, "actor": "agent@example.com", "action": "task.run", "subject_type": "", "subject_id": "",
              "ticket": "T-forged", "reason": "an entry that never happened", "task": "refund_order",
              "customer": "alice@example.com", "outcome": "succeeded", "details": canonical_details({})}
    created_at = utcnow()
    prev = tampered.entry(7).hash
    chain_hash = digest(prev, created_at=timestamp(created_at), **forged)
    tampered.sql("INSERT INTO audit_entries (seq, created_at, actor, action, subject_type, subject_id, ticket, reason, "
                 "task, customer, outcome, details, prev_hash, hash) VALUES (:seq, :created_at, :actor, :action, "
                 ":subject_type, :subject_id, :ticket, :reason, :task, :customer, :outcome, :details, :prev, :hash)",
                 **forged, created_at=created_at, prev=prev, hash=chain_hash)
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 8: inserted: seq 9 chains directly to seq 7" in output


def test_two_entries_swapped(tampered):
    tampered.sql("UPDATE audit_entries SET seq = -1 WHERE seq = 7")
    tampered.sql("UPDATE audit_entries SET seq = 7 WHERE seq = 8")
    tampered.sql("UPDATE audit_entries SET seq = 8 WHERE seq = -1")
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 7: out of place or modified" in output


def test_a_chain_recomputed_without_the_key_is_caught_by_the_next_checkpoint(tampered):
    tampered.sql("UPDATE audit_entries SET reason = 'rewritten history' WHERE seq = 5")
    tampered.rehash(5)
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 11: differs from the signed checkpoint" in output
    assert "entries after seq 1 were rewritten" in output


def test_a_chain_recomputed_with_its_checkpoints_rewritten_fails_their_signature(tampered):
    tampered.sql("UPDATE audit_entries SET reason = 'rewritten history' WHERE seq = 5")
    made = tampered.rehash(5)
    for seq in (11, 21):
        tampered.sql("UPDATE audit_checkpoints SET hash = :hash WHERE seq = :seq", hash=made[seq], seq=seq)
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 11: the checkpoint of" in output and "bad signature" in output
    assert "without CONSOLE_AUDIT_KEY" in output


def test_a_chain_recomputed_with_its_checkpoints_deleted_leaves_a_gap(tampered):
    tampered.sql("UPDATE audit_entries SET reason = 'rewritten history' WHERE seq = 5")
    tampered.rehash(5)
    tampered.sql("DELETE FROM audit_checkpoints WHERE seq > 1")
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 11: no signed checkpoint after seq 1 though the trail goes on to seq 25" in output


def test_a_deleted_checkpoint_in_the_middle(tampered):
    tampered.sql("DELETE FROM audit_checkpoints WHERE seq = 11")
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 11: no signed checkpoint after seq 1 until seq 21" in output


def test_a_replaced_beginning(tampered):
    first = tampered.entry(1)
    fields = {name: getattr(first, name) for name in ("seq", "actor", "action", "subject_type", "subject_id",
                                                        "ticket", "reason", "task", "customer", "outcome", "details")}
    fake = "f" * 64
    tampered.sql("UPDATE audit_entries SET prev_hash = :fake, hash = :hash WHERE seq = 1", fake=fake,
                 hash=digest(fake, created_at=timestamp(first.created_at), **fields))
    tampered.rehash(2)
    code, output = tampered.verify()
    assert code == 1
    assert "FAILED seq 1: does not start from the genesis hash" in output


def test_a_value_of_the_wrong_type(tampered):
    if tampered.dialect == "sqlite":  # SQLite keeps whatever type it is given
        tampered.sql("UPDATE audit_entries SET reason = X'6576656e742036' WHERE seq = 7")
    else:
        tampered.sql("ALTER TABLE audit_entries ALTER COLUMN reason DROP NOT NULL")
        tampered.sql("UPDATE audit_entries SET reason = NULL WHERE seq = 7")
    assert tampered.first_bad_seq() == 7


def test_a_different_key_fails_every_checkpoint(trail):
    made = trail()
    made.record(5)
    made.app.config["CONSOLE_AUDIT_KEY"] = "not-the-key-that-signed"
    code, output = made.verify()
    assert code == 1
    assert "FAILED seq 1:" in output and "the key has changed since" in output
