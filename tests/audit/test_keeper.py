"""The checkpoint keeper that `serve` runs: an idle trail is still signed once the newest checkpoint is stale."""
import time
from datetime import timedelta

from console.audit.checkpoints import policy_from_config
from console.audit.keeper import CheckpointKeeper, sign_if_stale
from console.db import utcnow


def _url(made) -> str:
    return made.engine.url.render_as_string(hide_password=False)


def test_it_signs_only_when_the_newest_checkpoint_is_older_than_the_interval(trail):
    made = trail(AUDIT_CHECKPOINT_MINUTES=60)
    made.record(2)  # the first append signs: there was no checkpoint yet
    policy = policy_from_config(made.app.config)
    signed = made.count("audit_checkpoints")
    assert signed == 1
    assert sign_if_stale(made.engine, policy) is None
    assert sign_if_stale(made.engine, policy, now=utcnow() + timedelta(minutes=59)) is None
    assert made.count("audit_checkpoints") == signed
    made_now = sign_if_stale(made.engine, policy, now=utcnow() + timedelta(minutes=61))
    assert (made_now.seq, made_now.hash) == (2, made.entry(2).hash)
    assert made.count("audit_checkpoints") == signed + 1
    code, output = made.verify("--strict")
    assert code == 0, output


def test_an_empty_trail_gets_its_first_checkpoint(trail):
    made = trail()
    assert sign_if_stale(made.engine, policy_from_config(made.app.config)).seq == 0
    assert made.count("audit_checkpoints") == 1


def test_the_keeper_thread_signs_at_start_and_stops(trail):
    made = trail(AUDIT_CHECKPOINT_MINUTES=1)
    made.record(1)
    made.drop_triggers()  # to age the checkpoint, as if the console had been idle for two hours
    made.sql("UPDATE audit_checkpoints SET created_at = created_at - INTERVAL '2 hours'"
             if made.dialect == "postgresql" else
             "UPDATE audit_checkpoints SET created_at = datetime(created_at, '-2 hours')")
    before = made.count("audit_checkpoints")
    keeper = CheckpointKeeper(_url(made), policy_from_config(made.app.config), tick=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while made.count("audit_checkpoints") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # several more ticks: the new checkpoint is fresh, so none is added
    finally:
        keeper.stop()
    assert made.count("audit_checkpoints") == before + 1
    assert not keeper._thread.is_alive()


def test_a_database_that_is_down_is_logged_and_retried(trail, caplog):
    made = trail()
    made.sql("ALTER TABLE audit_checkpoints RENAME TO audit_checkpoints_gone")
    keeper = CheckpointKeeper(_url(made), policy_from_config(made.app.config), tick=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while caplog.text.count("could not sign an audit checkpoint") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        keeper.stop()
    assert caplog.text.count("could not sign an audit checkpoint") >= 2
