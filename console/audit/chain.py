"""Appending to the hash chain: one function, used by every domain."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from blinker import Namespace
from flask import g, has_request_context
from sqlalchemy import bindparam, event, insert, select, true, update
from sqlalchemy.orm import Session

from console.audit.checkpoints import add_checkpoint, is_due, newest_checkpoint, policy_for
from console.audit.models import GENESIS, AuditEntry, AuditHead
from console.db import utcnow
from console.direct import send
from console.engines import READS_ALONE
from console.jsontext import Encoded, canonical_json, jsonable, quote as _quote, text as _text

HASHED_FIELDS = (
    "seq", "created_at", "actor", "action", "subject_type", "subject_id", "ticket", "reason", "task",
    "customer", "outcome", "details",
)
# Keys whose values never reach the trail, whoever forgets to redact them first.
SECRET_KEYS = frozenset({
    "password", "new_password", "current_password", "password_hash", "secret", "client_secret", "token",
    "access_token", "refresh_token", "csrf_token", "api_key", "apikey", "authorization", "private_key",
})
SECRET_SUFFIXES = ("_password", "_secret", "_token", "_api_key")
# Where an Encoded text (lowered) may name a secret key: each key stands in it as "key":, escaped.
_SECRET_KEY_TEXT = re.compile('"(?:%s)":|(?:%s)":' % ("|".join(map(re.escape, SECRET_KEYS)),
                                                     "|".join(map(re.escape, SECRET_SUFFIXES))))

# The canonical form of an entry is json.dumps(fields, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False). Spelled out as a template it hashes several times faster, which is what
# lets `audit verify` read 200,000+ entries a second; a test proves both forms agree.
_BODY = ('{"action":%s,"actor":%s,"created_at":%s,"customer":%s,"details":%s,"outcome":%s,"reason":%s,'
         '"seq":%d,"subject_id":%s,"subject_type":%s,"task":%s,"ticket":%s}')


class WrittenEntry(SimpleNamespace):
    """What `append` wrote, by the names of AuditEntry's columns: made without the ORM's instrumentation,
    which cost a run more than hashing its two entries."""


class AuditUnavailable(Exception):
    """The audit store could not be written; callers must not go on (fail closed)."""


# Sent once a transaction holding entries commits, with `entries`: one (action, outcome, subject_type,
# task) tuple per entry. Observers (the metrics) count what was kept, never a rolled-back append.
entries_committed = Namespace().signal("audit-entries-committed")
PENDING_ENTRIES = "audit_pending_entries"


@event.listens_for(Session, "after_commit")
def _announce_committed(session: Session) -> None:
    pending = session.info.pop(PENDING_ENTRIES, None)
    if pending:
        entries_committed.send(session, entries=pending)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(PENDING_ENTRIES, None)


def _is_secret(key: str) -> bool:
    key = key.lower()
    return key in SECRET_KEYS or key.endswith(SECRET_SUFFIXES)


def canonical_details(details: dict | None) -> str:
    """The details text exactly as it is stored and hashed: plain JSON, every secret key's value redacted.

    An Encoded member (a run's parameters, encoded once when the run was made) is placed as it is,
    unparsed, when no key in it can name a secret; otherwise it is read and redacted like the rest.
    """
    details = details or {}
    kept = {key: value for key, value in details.items()
            if isinstance(value, Encoded) and isinstance(key, str) and not _is_secret(key)
            and _text(key) == key and not _SECRET_KEY_TEXT.search(value.lower())}
    rest = jsonable({key: value for key, value in details.items() if key not in kept}, secret=_is_secret)
    return canonical_json({**rest, **kept} if kept else rest)


def digest(prev_hash: str, *, seq: int, created_at: str, actor: str, action: str, subject_type: str,
           subject_id: str, ticket: str, reason: str, task: str, customer: str, outcome: str, details: str) -> str:
    """SHA-256 over prev_hash and the canonical JSON of the hashed fields (created_at as ISO text)."""
    body = _BODY % (_quote(action), _quote(actor), _quote(created_at), _quote(customer), _quote(details),
                    _quote(outcome), _quote(reason), seq, _quote(subject_id), _quote(subject_type), _quote(task),
                    _quote(ticket))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def timestamp(value: datetime) -> str:
    """How created_at enters the hash: naive UTC, ISO 8601 with microseconds."""
    return value.isoformat(timespec="microseconds")


def entry_hash(fields: dict, prev_hash: str) -> str:
    """SHA-256 over prev_hash and the canonical form of the entry's hashed fields."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = timestamp(body["created_at"])
    return digest(prev_hash, **body)


def clean_field(text: Any, limit: int) -> str:
    return _text(str(text or ""))[:limit]


_HEAD = AuditHead.__table__
_ENTRIES = AuditEntry.__table__
# Core statements on the session's connection, built once: the ORM's unit of work cost more
# than the rest of an append, and every task run appends twice (intent and outcome). The
# bump returns the newest checkpoint with the tip, so deciding whether one is due reads nothing.
_BUMP = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1)
         .returning(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.checkpoint_seq, _HEAD.c.checkpoint_at))
_FIRST_HEAD = insert(_HEAD)
_ENTRY_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def _write_statements(dialect: str, signed: bool):
    """The statements that store an entry and move the head's hash to it (and note a checkpoint).

    PostgreSQL takes both in one round trip, the INSERT as a data-modifying CTE; SQLite has no
    such CTE, and runs in-process, so it takes two statements.
    """
    head_values = {"hash": bindparam("entry_hash")}
    if signed:
        head_values.update(checkpoint_seq=bindparam("entry_seq"), checkpoint_at=bindparam("entry_created_at"))
    entry = insert(_ENTRIES).values({name: bindparam(f"entry_{name}") for name in _ENTRY_COLUMNS})
    move = update(_HEAD).where(_HEAD.c.id == 1).values(head_values)
    if dialect == "postgresql":
        return (move.add_cte(entry.cte("entry")),)
    return entry, move


_WRITES: dict[tuple[str, bool], tuple] = {}
# The head's lock with a caller's write in it as a CTE, per the write's statement (kept alongside, as its id is the key).
_BUMPS_WITH: dict[int, tuple] = {}


def _bump_with(statement, names_row: bool):
    held = _BUMPS_WITH.get(id(statement))
    if held is None or held[0] is not statement:
        along = statement.cte("along")
        if names_row:  # the new row's id, with the head's row if there is one yet (the first entry has none)
            moved = _BUMP.cte("moved")
            bump = select(along.c.id.label("along_id"), *moved.c).select_from(along.outerjoin(moved, true()))
        else:
            bump = _BUMP.add_cte(along)
        held = _BUMPS_WITH[id(statement)] = (statement, bump)
    return held[1]


def _lock_head(conn, along: tuple | None) -> tuple:
    """(the head's row, locked and moved on by one; the id of the row `along` inserted, or None).

    `along` is a caller's write, (statement, params), sent with the lock; or (INSERT ... RETURNING id, params,
    on_id) for a new row that the entry names, whose id is given to on_id before the entry is made; that INSERT
    gives every column its value, as a write inside a SELECT gets none of the model's defaults.
    On PostgreSQL the caller's write is a CTE of the lock's own statement: one round trip for both.
    Elsewhere it runs just before the lock, in the same transaction.
    """
    if along is None:
        return send(conn, _BUMP).first(), None
    statement, params = along[0], along[1]
    names_row = len(along) > 2
    if conn.dialect.name != "postgresql":
        written = conn.execute(statement, params)
        row_id = written.scalar_one() if names_row else None
        return conn.execute(_BUMP).first(), row_id
    head = send(conn, _bump_with(statement, names_row), params).first()
    if not names_row:
        return head, None
    return (head if head.seq is not None else None), head.along_id


def _writes(dialect: str, signed: bool) -> tuple:
    key = (dialect, signed)
    if key not in _WRITES:
        _WRITES[key] = _write_statements(dialect, signed)
    return _WRITES[key]


def entry_connection(session: Session):
    """The session's connection, for entries: never one in autocommit, where the head's lock holds for one
    statement only (two writers could chain to the same entry) and an entry is kept even if what it
    records is rolled back. Pages read on such connections (console.db.console_reads), never through this."""
    conn = session.connection()
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT" or options.get(READS_ALONE):
        raise AuditUnavailable("the audit trail is never written on a connection in autocommit")
    return conn


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str = "",
    subject_id: Any = "",
    ticket: str = "",
    reason: str = "",
    task: str = "",
    customer: str = "",
    outcome: str = "",
    details: dict | None = None,
    along: tuple | None = None,
) -> WrittenEntry:
    """Append one entry to the chain in the session's transaction; the caller commits.

    `along`: a write of the caller's, (statement, params), sent with the head's lock (`_lock_head`), a round
    trip fewer; or (INSERT ... RETURNING id, params, on_id) for the row the entry is about, whose new id
    on_id(id) turns into the entry's subject_id. The entry returned is a plain record of what was written
    (an AuditEntry's columns), not a session object.
    """
    if has_request_context() and "request_id" in g:
        # The request id also names the request's log line, so an entry leads to its logs.
        details = {**(details or {}), "request_id": g.request_id}
    details_text = canonical_details(details)  # before the lock: bad details must not hold it
    conn = entry_connection(session)
    # Taking the head row's write lock first (an UPDATE) serialises concurrent writers on
    # PostgreSQL and on SQLite alike, so seq and prev_hash can never fork.
    head, row_id = _lock_head(conn, along)
    if row_id is not None:
        subject_id = along[2](row_id)
    if head is None:
        last_seq, last_at = newest_checkpoint(conn)  # the hourly job may have signed the empty trail
        conn.execute(_FIRST_HEAD, {"id": 1, "seq": 1, "hash": GENESIS, "checkpoint_seq": last_seq,
                                   "checkpoint_at": last_at})
        head = conn.execute(_BUMP.values(seq=_HEAD.c.seq)).one()
    fields = {
        "seq": head.seq,
        "created_at": utcnow(),  # taken under the lock, so time order follows seq order
        "actor": clean_field(actor, 254),
        "action": clean_field(action, 60),
        "subject_type": clean_field(subject_type, 40),
        "subject_id": clean_field(subject_id, 120),
        "ticket": clean_field(ticket, 120),
        "reason": clean_field(reason, 4000),
        "task": clean_field(task, 100),
        "customer": clean_field(customer, 254),
        "outcome": clean_field(outcome, 30),
        "details": details_text,
    }
    chain_hash = entry_hash(fields, head.hash)
    row = {**fields, "prev_hash": head.hash, "hash": chain_hash}
    policy = policy_for(session)
    signed = policy is not None and is_due(policy, head.seq, fields["created_at"], head.checkpoint_seq,
                                           head.checkpoint_at)
    params = {f"entry_{name}": value for name, value in row.items()}
    for statement in _writes(conn.dialect.name, signed):
        send(conn, statement, params)
    if signed:
        add_checkpoint(conn, policy.key, head.seq, chain_hash, fields["created_at"], note_on_head=False)
    session.info.setdefault(PENDING_ENTRIES, []).append(
        (fields["action"], fields["outcome"], fields["subject_type"], fields["task"]))
    return WrittenEntry(**row)


def record_event(session: Session, *, commit: bool = True, **fields) -> WrittenEntry:
    """Append an entry and commit it; raise AuditUnavailable when the store cannot be written."""
    try:
        entry = append(session, **fields)
        if commit:
            session.commit()
        return entry
    except Exception as exc:  # any database failure here means no audit, so nothing may proceed
        session.rollback()
        raise AuditUnavailable(f"the audit trail could not be written: {exc.__class__.__name__}") from exc
