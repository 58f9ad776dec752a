"""A run's row written with prebuilt statements: the run object stays as a flush would leave it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from console.tasks.models import TaskRun
from console.tasks.rows import run_row


def _new_run() -> TaskRun:
    return TaskRun(task="unlock_account", status="interrupted", ticket="T-ROWS", reason="locked out",
                   actor="agent@example.com", params='{"email":"a@example.com"}')


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(TaskRun).where(TaskRun.ticket == "T-ROWS"))


def test_a_new_run_gets_its_id_and_defaults_and_is_left_clean(console_db):
    run = _new_run()
    with run_row(console_db, run):
        assert run.id is not None
        assert not console_db.dirty and not console_db.new  # nothing left for a flush to write again
    console_db.commit()

    assert (run.changes, run.result, run.risk) == ("[]", "", "low")  # the model's defaults, on the object too
    stored = console_db.execute(select(TaskRun.task, TaskRun.params, TaskRun.risk).where(TaskRun.id == run.id)).one()
    assert tuple(stored) == ("unlock_account", '{"email":"a@example.com"}', "low")


def test_a_saved_run_writes_only_what_changed_and_is_left_clean(console_db):
    run = _new_run()
    with run_row(console_db, run):
        pass
    console_db.commit()
    run.status, run.result = "succeeded", "unlocked"
    with run_row(console_db, run):
        assert not console_db.dirty and not inspect(run).modified and inspect(run).persistent
        assert not inspect(run).attrs.status.history.has_changes()
        assert console_db.get(TaskRun, run.id) is run  # still the session's object for its row
    console_db.commit()

    console_db.expire_all()
    assert (run.status, run.result, run.reason) == ("succeeded", "unlocked", "locked out")


def test_a_new_run_rolled_back_is_new_again_with_its_values(console_db):
    before = _count(console_db)
    run = _new_run()
    with pytest.raises(RuntimeError):
        with run_row(console_db, run):
            raise RuntimeError("the audit could not be written")

    assert inspect(run).transient and run.task == "unlock_account" and run.reason == "locked out"
    assert _count(console_db) == before
    with run_row(console_db, run):  # and it can be written again, as a new row
        pass
    console_db.commit()
    assert _count(console_db) == before + 1


def test_a_saved_run_rolled_back_is_read_again_from_its_row(console_db):
    run = _new_run()
    with run_row(console_db, run):
        pass
    console_db.commit()
    run.status = "succeeded"
    with pytest.raises(RuntimeError):
        with run_row(console_db, run):
            raise RuntimeError("the audit could not be written")

    assert inspect(run).persistent and "status" in inspect(run).expired_attributes
    assert run.status == "interrupted"


def test_a_held_insert_gives_the_run_its_id_with_the_audit_entry_that_names_it(app, console_db):
    from console.audit.chain import append

    run = _new_run()
    with app.app_context():
        with run_row(console_db, run, hold_insert=True) as held:
            assert run.id is None  # nothing sent yet: the INSERT goes with the head's lock
            entry = append(console_db, actor=run.actor, action="task.intent", subject_type="task_run", along=held)
            assert entry.subject_id == str(run.id) and run.id is not None
            assert not console_db.dirty and not console_db.new and console_db.get(TaskRun, run.id) is run
        console_db.commit()
    assert console_db.scalar(select(TaskRun.reason).where(TaskRun.id == run.id)) == "locked out"


def test_a_held_insert_rolled_back_after_its_entry_is_new_again_and_can_be_written_again(app, console_db):
    from console.audit.chain import append

    before = _count(console_db)
    run = _new_run()
    with app.app_context(), pytest.raises(RuntimeError):
        with run_row(console_db, run, hold_insert=True) as held:
            append(console_db, actor=run.actor, action="task.intent", subject_type="task_run", along=held)
            raise RuntimeError("a recount refused the run")
    assert inspect(run).transient and run.reason == "locked out"
    assert _count(console_db) == before
    with run_row(console_db, run):
        pass
    console_db.commit()
    assert _count(console_db) == before + 1
