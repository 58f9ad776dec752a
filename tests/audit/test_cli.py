"""`support-console audit verify`: its output, what it keeps for the home page, anchors and --strict."""
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from console.audit import checkpoints as checkpoints_module, verify as verify_module
from console.audit.cli import group
from console.audit.checkpoints import sign
from console.audit.models import AuditVerification
from console.cli import main
from tests.conftest import TEST_AUDIT_KEY


def verifications(made):
    with made.engine.connect() as conn:
        return conn.execute(select(AuditVerification).order_by(AuditVerification.id)).all()


def test_ok_prints_the_count_and_keeps_the_result(trail):
    made = trail()
    made.record(12)
    code, output = made.verify()
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == "OK 12 entries"
    assert lines[1].startswith("2 signed checkpoints verified; the newest covers seq 11")
    [kept] = verifications(made)
    assert kept.ok and kept.entries == 12 and kept.last_seq == 12 and kept.checkpoint_seq == 11
    assert kept.source == "cli" and kept.first_bad_seq is None


def test_failed_result_is_kept_for_the_home_page(trail):
    made = trail()
    made.record(5)
    made.drop_triggers()
    made.sql("UPDATE audit_entries SET reason = 'x' WHERE seq = 4")
    code, output = made.verify()
    assert code == 1
    [kept] = verifications(made)
    assert not kept.ok and kept.first_bad_seq == 4 and "modified" in kept.problem


def test_no_record_keeps_nothing(trail):
    made = trail()
    made.record(2)
    assert made.verify("--no-record")[0] == 0
    assert verifications(made) == []


def test_a_malformed_anchor_names_the_option(trail):
    made = trail()
    code, output = made.verify("--anchor", "12:not-a-hash")
    assert code == 2
    assert "--anchor" in output and "SEQ:HASH" in output


def test_a_late_checkpoint_warns_and_fails_only_with_strict(trail, monkeypatch):
    made = trail()
    made.record(3)
    later = verify_module.utcnow() + timedelta(hours=3)
    monkeypatch.setattr(verify_module, "utcnow", lambda: later)
    code, output = made.verify()
    assert code == 0 and output.startswith("OK 3 entries")
    assert "warning: the newest signed checkpoint is from" in output
    code, output = made.verify("--strict")
    assert code == 1
    assert "FAILED seq 2: the newest signed checkpoint is from" in output


def test_a_hole_in_time_between_checkpoints_is_reported(trail):
    made = trail()
    made.record(2)
    head = made.entry(2)
    # Two genuinely signed checkpoints five hours apart: the ones in between are missing.
    for hours in (6, 1):
        at = verify_module.utcnow().replace(microsecond=0) - timedelta(hours=hours)
        made.sql("INSERT INTO audit_checkpoints (seq, hash, created_at, mac) VALUES (2, :hash, :at, :mac)",
                 hash=head.hash, at=at, mac=sign(TEST_AUDIT_KEY, 2, head.hash, at))
    code, output = made.verify("--strict")
    assert code == 1
    assert "no signed checkpoint between" in output


def test_strict_passes_an_empty_trail_and_a_well_kept_one(trail, monkeypatch):
    made = trail()
    assert made.verify("--strict")[0] == 0  # nothing written yet: nothing to cover
    made.record(25)
    code, output = made.verify("--strict")
    assert code == 0 and output.startswith("OK 25 entries") and "warning" not in output


def test_the_checkpoint_command_keeps_an_idle_trail_within_the_policy(trail, monkeypatch):
    made = trail()
    made.record(3)
    start = verify_module.utcnow()
    monkeypatch.setattr(verify_module, "utcnow", lambda: start + timedelta(minutes=100))
    assert made.first_bad_seq("--strict") == 2  # the only checkpoint (seq 1) is 100 minutes old
    monkeypatch.setattr(checkpoints_module, "utcnow", lambda: start + timedelta(minutes=40))
    result = made.app.test_cli_runner().invoke(group, ["checkpoint"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output.splitlines()[-1] == f"3:{made.entry(3).hash}"
    code, output = made.verify("--strict")
    assert code == 0, output
    assert "2 signed checkpoints verified; the newest covers seq 3" in output


def test_an_unreadable_trail_is_one_clear_line(trail):
    made = trail()
    made.sql("ALTER TABLE audit_entries RENAME TO audit_entries_gone")
    code, output = made.verify()
    assert code == 1
    assert "could not read the audit trail" in output and "Traceback" not in output


def test_the_installed_command_reads_the_environment(trail, monkeypatch):
    made = trail()
    made.record(4)
    config = made.app.config
    monkeypatch.setenv("CONSOLE_DATABASE_URL", config["CONSOLE_DATABASE_URL"])
    monkeypatch.setenv("TARGET_DATABASE_URL", config["TARGET_DATABASE_URL"])
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("CONSOLE_AUDIT_KEY", TEST_AUDIT_KEY)
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK 4 entries")
    monkeypatch.setenv("CONSOLE_AUDIT_KEY", "a-different-key")
    result = CliRunner().invoke(main, ["audit", "verify", "--no-record"])
    assert result.exit_code == 1
    assert "FAILED seq 1:" in result.output
