"""Signed checkpoints, and `support-console audit checkpoint` for the hourly cron job."""
from datetime import datetime

from console.audit.chain import GENESIS
from console.audit.checkpoints import sign, signature_matches, write_checkpoint
from console.audit.cli import group

WHEN = datetime(2026, 1, 31, 12, 0, 0, 1)


def test_the_signature_covers_seq_hash_time_and_key():
    mac = sign("key", 10, "a" * 64, WHEN)
    assert len(mac) == 64 and mac == sign("key", 10, "a" * 64, WHEN)
    assert signature_matches("key", 10, "a" * 64, WHEN, mac)
    assert not signature_matches("key", 11, "a" * 64, WHEN, mac)
    assert not signature_matches("key", 10, "b" * 64, WHEN, mac)
    assert not signature_matches("key", 10, "a" * 64, WHEN.replace(microsecond=2), mac)
    assert not signature_matches("other key", 10, "a" * 64, WHEN, mac)
    assert not signature_matches("key", 10, "a" * 64, WHEN, "")


def test_the_command_signs_the_head_even_when_idle(trail):
    made = trail(AUDIT_CHECKPOINT_EVERY=1000)
    made.record(3)
    before = made.count("audit_checkpoints")
    result = made.app.test_cli_runner().invoke(group, ["checkpoint"], catch_exceptions=False)
    assert result.exit_code == 0
    assert made.count("audit_checkpoints") == before + 1
    anchor = result.output.strip().splitlines()[-1]
    assert anchor == f"3:{made.entry(3).hash}"
    assert "Signed checkpoint at seq 3" in result.output
    code, output = made.verify("--anchor", anchor)
    assert code == 0, output


def test_a_checkpoint_of_an_empty_trail_signs_the_genesis(trail):
    made = trail()
    session = made.dbs.console_factory()
    try:
        checkpoint = write_checkpoint(session, made.app.config["CONSOLE_AUDIT_KEY"])
        session.commit()
    finally:
        session.close()
    assert (checkpoint.seq, checkpoint.hash) == (0, GENESIS)
    code, output = made.verify()
    assert code == 0 and output.startswith("OK 0 entries")


def test_the_command_reports_an_unwritable_store_in_one_line(trail):
    made = trail()
    made.sql("ALTER TABLE audit_checkpoints RENAME TO audit_checkpoints_gone")
    result = made.app.test_cli_runner().invoke(group, ["checkpoint"])
    assert result.exit_code == 1
    assert "could not write the checkpoint" in result.output
    assert "Traceback" not in result.output and "[SQL" not in result.output and result.output.count("\n") == 1
