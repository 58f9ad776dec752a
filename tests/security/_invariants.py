"""What every fuzzed or faulted call must leave behind: an answer in the API's format, whole writes only, and
an audit chain that still verifies.

Snapshots read the databases through the raw connections that the `dbs` fixture binds the app to, never
through a session: a session started inside `rolled_back` would lose its savepoint when the example ends.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import inspect, select, text

import console.models  # noqa: F401  (registers every console table on ConsoleBase.metadata)
from admin_tasks.shop_schema import ShopBase
from console.audit.chain import GENESIS, HASHED_FIELDS, entry_hash
from console.audit.models import AuditEntry, AuditHead
from console.db import ConsoleBase
from console.tasks.models import TaskRun
from console.jsontext import jsonable

ERROR_STATUSES = range(400, 500)


def connections(dbs) -> tuple:
    """The (console, target) connections the app's sessions are bound to during a `dbs` test."""
    return dbs.console_factory.kw["bind"], dbs.target_factory.kw["bind"]


@contextmanager
def rolled_back(dbs):
    """Undo everything an example wrote, so that every example starts from the same data.

    A SAVEPOINT on each connection: the app's sessions (join mode create_savepoint) nest their
    own savepoints inside it, so even what they commit is rolled back here.
    """
    conns = connections(dbs)
    changes = [_changes(conn) for conn in conns]
    savepoints = [conn.begin_nested() for conn in conns]
    try:
        yield
    finally:
        for savepoint in reversed(savepoints):
            if savepoint.is_active:
                savepoint.rollback()
        for conn, before in zip(conns, changes):
            if _changes(conn) != before:  # rows read while the example had written are not the data any more
                conn.info.pop("security_rows", None)


def _changes(conn) -> int | None:
    """SQLite's count of rows this connection ever wrote (rollbacks never lower it); None elsewhere."""
    return conn.exec_driver_sql("SELECT total_changes()").scalar() if conn.dialect.name == "sqlite" else None


META = {"console": ConsoleBase.metadata, "target": ShopBase.metadata}


def _tables(conn, metadata) -> list:
    """The metadata's tables that the database has (a model may be ahead of its migration while work goes on)."""
    if "security_tables" not in conn.info:  # asked once per connection: it is one more round trip
        conn.info["security_tables"] = set(inspect(conn).get_table_names())
    return [table for table in metadata.sorted_tables if table.name in conn.info["security_tables"]]


def _rows(conn, metadata) -> dict[str, dict]:
    """Every row by table. On SQLite the last read is reused while the connection has written nothing since."""
    # Keyed by the test's own transaction too: connection info outlives the test, its rolled-back data does not.
    changes = (conn.get_transaction(), _changes(conn))
    cached = conn.info.get("security_rows")
    if changes[1] is not None and cached is not None and cached[0][0] is changes[0] and cached[0][1] == changes[1]:
        return cached[1]
    tables = {}
    for table in _tables(conn, metadata):
        key = list(table.primary_key.columns)
        rows = conn.execute(select(table).order_by(*key)).mappings()
        tables[table.name] = {tuple(row[c.name] for c in key) if len(key) > 1 else row[key[0].name]: dict(row)
                              for row in rows}
    if changes[1] is not None:
        conn.info["security_rows"] = (changes, tables)
    return tables


def _digests(conn, metadata) -> dict[str, str]:
    """One MD5 per table over all its rows in key order, in a single round trip (PostgreSQL)."""
    parts = []
    for table in _tables(conn, metadata):
        order = ", ".join(f't."{column.name}"' for column in table.primary_key.columns)
        parts.append(f"SELECT '{table.name}' AS name, md5(coalesce(string_agg(t::text, '|' ORDER BY {order}), '')) "
                     f'AS digest FROM "{table.name}" AS t')
    return dict(conn.execute(text(" UNION ALL ".join(parts))).all())


class Snapshot:
    """Every row of both databases, compared table by table.

    On PostgreSQL a snapshot first takes one digest per table (one round trip per database) and reads
    the rows only when asked; `eager` reads them at once, as a baseline must (later they may have changed).
    """

    def __init__(self, dbs, *, eager: bool = False):
        self.conns = dict(zip(("console", "target"), connections(dbs)))
        self._rows: dict[str, dict] = {}
        if self.conns["target"].dialect.name == "postgresql":
            self.digests = {side: _digests(conn, META[side]) for side, conn in self.conns.items()}
            if eager:
                for side in self.conns:
                    self.rows(side)
        else:  # SQLite answers in-process: the rows are the digest
            self.digests = {side: self.rows(side) for side in self.conns}

    def rows(self, side: str) -> dict[str, dict]:
        if side not in self._rows:
            self._rows[side] = _rows(self.conns[side], META[side])
        return self._rows[side]

    @property
    def console(self) -> dict[str, dict]:
        return self.rows("console")

    @property
    def target(self) -> dict[str, dict]:
        return self.rows("target")

    def differences(self, other: Snapshot, side: str) -> list[str]:
        found = []
        for name, digest in self.digests[side].items():
            if digest == other.digests[side][name]:
                continue
            mine, theirs = self.rows(side)[name], other.rows(side)[name]
            if mine == theirs:
                continue
            added = sorted(set(theirs) - set(mine), key=str)
            gone = sorted(set(mine) - set(theirs), key=str)
            changed = sorted((k for k in set(mine) & set(theirs) if mine[k] != theirs[k]), key=str)
            found.append(f"{side}.{name}: added {added[:5]}, removed {gone[:5]}, changed {changed[:5]}")
        return found


def assert_unchanged(before: Snapshot, after: Snapshot, *sides: str, what: str = "") -> None:
    """Nothing was written to the given sides ("console", "target"; both by default)."""
    problems = [line for side in (sides or ("console", "target")) for line in before.differences(after, side)]
    assert not problems, f"{what}: a refused call wrote " + "; ".join(problems)


def chain_problems(conn, after_seq: int = 0, prev_hash: str | None = None) -> list[str]:
    """Recompute the chain from entry `after_seq` + 1 on (prev_hash: that entry's hash); [] when it holds."""
    if prev_hash is None:
        prev_hash = GENESIS if after_seq == 0 else conn.scalar(select(AuditEntry.hash).where(
            AuditEntry.seq == after_seq))
    problems, expected, prev = [], after_seq + 1, prev_hash
    for row in conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq > after_seq)
                            .order_by(AuditEntry.seq)).mappings():
        if row["seq"] != expected:
            problems.append(f"seq {expected} is missing (next is {row['seq']})")
        if row["prev_hash"] != prev:
            problems.append(f"seq {row['seq']}: prev_hash does not link to the entry before")
        if entry_hash({name: row[name] for name in HASHED_FIELDS}, row["prev_hash"]) != row["hash"]:
            problems.append(f"seq {row['seq']}: hash does not match its fields")
        prev, expected = row["hash"], row["seq"] + 1
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    if head is not None and (head.seq, head.hash) != (expected - 1, prev):
        problems.append(f"the head says seq {head.seq}, the chain ends at {expected - 1}")
    return problems


def check_answer(response, what: str = "") -> dict:
    """A 2xx, or a 4xx in the API's error format; never a 5xx, never HTML. Return the JSON body."""
    status = response.status_code
    text = response.get_data(as_text=True)
    assert 200 <= status < 300 or status in ERROR_STATUSES, f"{what}: answered {status}: {text[:800]}"
    assert response.mimetype == "application/json", f"{what}: answered {status} as {response.mimetype}: {text[:300]}"
    body = response.get_json()
    if status in ERROR_STATUSES:
        error = body.get("error") if isinstance(body, dict) else None
        assert isinstance(error, dict), f"{what}: {status} without an error object: {text[:300]}"
        assert isinstance(error.get("code"), str) and error["code"], f"{what}: error without a code: {error}"
        assert isinstance(error.get("message"), str) and error["message"].strip(), f"{what}: no message: {error}"
        assert isinstance(error.get("fields"), dict), f"{what}: fields is not an object: {error}"
    return body


def assert_whole_run(before: Snapshot, after: Snapshot, run: dict) -> None:
    """The target changed exactly as the succeeded run says: its updates, its inserts, its emails, nothing else."""
    changes = run["changes"]
    updates = {(c["table"], c["key"]): c["after"] for c in changes if c["before"] is not None}
    inserts: dict[str, list[dict]] = {}
    for change in changes:
        if change["before"] is None:
            inserts.setdefault(change["table"], []).append(change["after"])
    emails = [effect for effect in run.get("effects", []) if effect.get("kind") == "email"]
    for table, old in before.target.items():
        new = after.target[table]
        assert not set(old) - set(new), f"run {run['id']} deleted {table} rows {set(old) - set(new)}"
        changed = {key for key in set(old) & set(new) if old[key] != new[key]}
        assert changed == {key for (name, key) in updates if name == table}, (
            f"run {run['id']} changed {table} rows {changed}, its diff says {sorted(updates)}")
        for key in changed:
            assert {c: jsonable(new[key][c]) for c in updates[(table, key)]} == updates[(table, key)], (
                f"run {run['id']}: {table} {key} does not hold the values of the diff")
        added = [new[key] for key in set(new) - set(old)]
        expected = len(inserts.get(table, [])) + (len(emails) if table == "email_outbox" else 0)
        assert len(added) == expected, f"run {run['id']} added {len(added)} {table} rows, expected {expected}"
        for values in inserts.get(table, []):
            assert any({c: jsonable(row[c]) for c in values} == values for row in added), (
                f"run {run['id']}: no new {table} row holds {values}")


def audit_outcomes(conn, run_id) -> list[tuple[str, str]]:
    """(action, outcome) of a run's audit entries, oldest first."""
    return [tuple(row) for row in conn.execute(
        select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.subject_type == "task_run",
                                                            AuditEntry.subject_id == str(run_id))
        .order_by(AuditEntry.seq))]


def check_run_call(answer: dict, status: int, before: Snapshot, after: Snapshot, conn, what: str) -> None:
    """What a call that may create, decide, undo or reconcile a run may leave behind.

    With a run in the answer: a succeeded run changed exactly its diff, any other status left the target
    alone, and the run's final status is audited. Without one, a 4xx wrote nothing anywhere.
    """
    run = answer.get("run") if isinstance(answer, dict) else None
    if run is None:
        assert status not in ERROR_STATUSES or not before.differences(after, "console") + before.differences(
            after, "target"), f"{what}: a refused call wrote " + "; ".join(
            before.differences(after, "console") + before.differences(after, "target"))
        return
    if status in ERROR_STATUSES:
        assert status == 422 and run["status"] in ("refused", "failed") and answer["error"]["code"] == run["status"], (
            f"{what}: {status} with a {run['status']} run")
    if run["status"] == "succeeded":
        # The answer masks personal data; the run as stored holds the values the target must hold.
        stored = conn.execute(select(TaskRun.changes, TaskRun.effects).where(TaskRun.id == run["id"])).one()
        assert_whole_run(before, after, dict(run, changes=json.loads(stored.changes),
                                             effects=json.loads(stored.effects)))
    else:
        assert_unchanged(before, after, "target", what=what)
    assert run["status"] in {outcome for _action, outcome in audit_outcomes(conn, run["id"])}, (
        f"{what}: run {run['id']} is {run['status']} but no audit entry says so")

