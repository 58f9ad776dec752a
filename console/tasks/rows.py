"""A run's row, written with prebuilt Core statements in the console session's transaction.

Every run writes its row at least twice (its intent, its outcome), each time alone: the ORM's
unit of work cost more than the rest of the write. The model (console.tasks.models.TaskRun)
stays the one place that defines the table, its columns and their defaults; the statements
are built from it. The run object stays the session's, loaded and clean, as a flush leaves it.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
# instance_state: what inspect() gives for a mapped object, without its lookup by type (six calls a run's save).
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.instrumentation import manager_of_class

from console.db import reserve_ids
from console.tasks.models import TaskRun

_RUNS = TaskRun.__table__
_COLUMNS = tuple(column.key for column in _RUNS.columns if not column.primary_key)
_KEYS = frozenset(_COLUMNS)
# The model's defaults, read once: the plain values as they are (None without one), and the callables (the
# clock's) called for each new run that has no value of its own.
_VALUES = {column.key: None if column.default is None or column.default.is_callable else column.default.arg
           for column in _RUNS.columns}
_CALLED = {column.key: column.default.arg for column in _RUNS.columns
           if column.default is not None and column.default.is_callable and not column.primary_key}
_INSERT = insert(_RUNS)
# A new run sent with the audit head's lock (console.audit.chain.append's `along`): every column a bound value.
_INSERT_ALONG = insert(_RUNS).values({key: bindparam(key) for key in _COLUMNS}).returning(_RUNS.c.id)
# Many new runs at once: their ids come back in the order the rows were given.
_INSERT_MANY = insert(_RUNS).returning(_RUNS.c.id, sort_by_parameter_order=True)
_UPDATES: dict[frozenset, object] = {}
_MANAGER = manager_of_class(TaskRun)


def new_run_object(**values) -> TaskRun:
    """A new, transient TaskRun with these columns, as `TaskRun(**values)` makes it but without an attribute
    event for each value (about ten calls each, a single run's largest cost before its first statement).
    Its values are read from its dict when it is saved (`save_run`) or flushed, as the constructor's would be."""
    unknown = set(values) - _KEYS
    if unknown:
        raise TypeError(f"TaskRun has no column {', '.join(sorted(unknown))}")
    run = _MANAGER.new_instance()
    run.__dict__.update(values)
    return run


def _update(keys: frozenset):
    statement = _UPDATES.get(keys)
    if statement is None:
        statement = _UPDATES.setdefault(keys, update(_RUNS).where(_RUNS.c.id == bindparam("run_id"))
                                        .values({key: bindparam(key) for key in keys}))
    return statement


def save_run(session: Session, run: TaskRun) -> dict | None:
    """Insert a new run's row (giving it its id) or update the columns changed since it was loaded.

    Returns, for a new run, what `run_row` needs to make it new again if the transaction rolls back.
    """
    state = instance_state(run)
    if state.key is None:  # transient, or pending in the session: a new run
        values = _new_values(session, run)
        run_id = session.connection().execute(_INSERT, values).inserted_primary_key[0]
        _inserted(session, run, values, run_id)
        return {**values, "id": run_id}
    held = held_update(session, run)
    if held is not None:
        session.connection().execute(*held)
    return None


def held_update(session: Session, run: TaskRun) -> tuple | None:
    """The UPDATE of the columns changed since a run was loaded, as (statement, params), for the caller to send
    in this transaction, before it commits (None when nothing changed). The run is held as saved already, so
    that no flush writes it meanwhile."""
    changed = _changed(session, run)
    if not changed:
        return None
    _as_loaded(session, run)
    return _update(frozenset(changed)), {**changed, "run_id": run.id}


def save_runs(session: Session, runs: list[TaskRun]) -> None:
    """`save_run` for many runs: the new ones in one INSERT ... RETURNING (executemany), the others in one
    UPDATE per set of changed columns. On a rollback, `forget_runs` makes the new ones new again."""
    new = [run for run in runs if instance_state(run).key is None]
    if new:
        values = [_new_values(session, run) for run in new]
        ids = reserve_ids(session, _RUNS, len(new))
        if ids is None:
            ids = session.connection().execute(_INSERT_MANY, values).scalars().all()
        else:  # the ids known: a plain executemany, without RETURNING
            session.connection().execute(_INSERT, [{**row, "id": run_id} for row, run_id in zip(values, ids)])
        for run, row, run_id in zip(new, values, ids):
            _inserted(session, run, row, run_id)
    groups: dict[frozenset, list[tuple[TaskRun, dict]]] = {}
    for run in runs:
        if run not in new:
            changed = _changed(session, run)
            if changed:
                groups.setdefault(frozenset(changed), []).append((run, changed))
    for keys, changes in groups.items():
        session.connection().execute(_update(keys), [{**changed, "run_id": run.id} for run, changed in changes])
        for run, _ in changes:
            _as_loaded(session, run)


def forget_runs(session: Session, runs: list[TaskRun]) -> None:
    """After the transaction that inserted them rolled back: the runs leave the session (their rows are gone,
    and SQLite may give their ids to the next rows)."""
    for run in runs:
        if instance_state(run).session is session:
            session.expunge(run)


def _new_values(session: Session, run: TaskRun) -> dict:
    if instance_state(run).pending:
        session.expunge(run)
    given = run.__dict__
    values = {key: given[key] if key in given else _VALUES[key] for key in _COLUMNS}
    for key, default in _CALLED.items():
        if key not in given:
            values[key] = default(None)
    return values


def _inserted(session: Session, run: TaskRun, values: dict, run_id: int) -> None:
    # As a load fills an object: into its dict, without history (it is made "as loaded" next).
    run.__dict__.update(values, id=run_id)
    _hold_as_loaded(session, run)


def _hold_as_loaded(session: Session, run: TaskRun) -> None:
    make_transient_to_detached(run)  # as loaded: no history, nothing for a flush to write again
    session.add(run)


def _changed(session: Session, run: TaskRun) -> dict:
    state = instance_state(run)
    if state.detached:
        session.add(run)
    return {key: run.__dict__[key] for key in state.committed_state if key in _KEYS and key in run.__dict__}


def _as_loaded(session: Session, run: TaskRun) -> None:
    """Hold the run in the session as just loaded with its current values: no history, not modified, so
    the session has nothing to flush, as the ORM's own flush leaves an object once its UPDATE has run.
    set_committed_value would leave it flagged as modified, for the next flush to walk through; taking it
    out of the session and back, as loaded, is the public way to the same state, with no query."""
    make_transient(run)  # out of the session and without its identity, as make_transient_to_detached wants it
    _hold_as_loaded(session, run)


def held_insert(session: Session, run: TaskRun, saved: dict) -> tuple:
    """A new run's INSERT, held for the caller to send with the audit head's lock: (statement, params, on_id).
    on_id(id) makes the run the session's, as loaded with that id, and returns the id. `saved` is filled with
    what `run_row` needs to make the run new again if the transaction rolls back."""
    values = _new_values(session, run)
    saved.update(values)

    def on_id(run_id: int) -> int:
        _inserted(session, run, values, run_id)
        saved["id"] = run_id
        return run_id

    return _INSERT_ALONG, values, on_id


@contextmanager
def run_row(session: Session, run: TaskRun, *, hold_update: bool = False, hold_insert: bool = False):
    """Write the run's row (`save_run`) for the transaction the block goes on to commit.

    With hold_update, a run that exists already is not written but held (`held_update`): the block is given
    the UPDATE to send. With hold_insert, a new run is held alike (`held_insert`): it has no id until the
    block sends its INSERT. Otherwise the block is given None.

    On any exception in the block the transaction is rolled back, and a run that was new is new again,
    its values kept, as the ORM leaves a flushed new object; a run that existed before is left expired,
    to be read again.
    """
    saved = held = None
    try:
        new = instance_state(run).key is None
        if hold_update and not new:
            held = held_update(session, run)
        elif hold_insert and new:
            saved = {}
            held = held_insert(session, run, saved)
        else:
            saved = save_run(session, run)
        yield held
    except BaseException:
        session.rollback()
        if saved is not None:
            if instance_state(run).session is not None:
                session.expunge(run)
            make_transient(run)
            for key, value in saved.items():
                setattr(run, key, value)
        raise
