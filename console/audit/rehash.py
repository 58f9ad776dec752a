"""Re-hashing the trail in bulk, fast enough for millions of entries.

Python needs about 10 µs to build an entry's canonical JSON from fourteen fetched columns.
The databases build the same text in C: SQLite's json_object() and PostgreSQL's to_json()
escape strings exactly as json.dumps(ensure_ascii=False) does (tests hold them to that), so
SQLite hands over the canonical bytes to hash and PostgreSQL compares the SHA-256 itself.

Trusting the database here costs nothing: a database that lied about these results could
equally lie about the rows. A mismatch is never taken on the database's word: that entry is
fetched and hashed again in Python, so a quirk of the SQL form can only slow verify down,
never make it fail or pass wrongly. Any other database, or a column of an unexpected type
(which makes the SQL form fail), gets the plain Python pass.
"""
from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.engine import Connection

from console.audit.chain import digest, timestamp
from console.audit.models import AuditEntry

# Key order is the canonical (sorted) one; json_object keeps the order it is given.
_SQLITE_PROOF = """
SELECT seq, prev_hash, hash, CAST(prev_hash || json_object(
    'action', action, 'actor', actor, 'created_at', replace(created_at, ' ', 'T'), 'customer', customer,
    'details', details, 'outcome', outcome, 'reason', reason, 'seq', seq, 'subject_id', subject_id,
    'subject_type', subject_type, 'task', task, 'ticket', ticket) AS BLOB)
FROM audit_entries ORDER BY seq
"""


def _pg_json(column: str) -> str:
    return f"pg_catalog.to_json({column})::text"


_POSTGRES_BODY = " || ".join([
    "prev_hash", "'{\"action\":'", _pg_json("action"), "',\"actor\":'", _pg_json("actor"),
    "',\"created_at\":\"'", "pg_catalog.to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
    "'\",\"customer\":'", _pg_json("customer"), "',\"details\":'", _pg_json("details"),
    "',\"outcome\":'", _pg_json("outcome"), "',\"reason\":'", _pg_json("reason"), "',\"seq\":'", "seq::text",
    "',\"subject_id\":'", _pg_json("subject_id"), "',\"subject_type\":'", _pg_json("subject_type"),
    "',\"task\":'", _pg_json("task"), "',\"ticket\":'", _pg_json("ticket"), "'}'",
])
# The rows whose content does not hash to their stored hash; PostgreSQL scans in parallel.
_POSTGRES_SUSPECTS = f"""
SELECT seq FROM audit_entries
WHERE (pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to({_POSTGRES_BODY}, 'UTF8')), 'hex') = hash) IS NOT TRUE
ORDER BY seq
"""
_LINKS = "SELECT seq, prev_hash, hash FROM audit_entries ORDER BY seq"
# Past this many SQL-side mismatches that Python clears, the SQL form is not worth it here.
MAX_FALSE_ALARMS = 1000

_ENTRY_COLUMNS = (
    AuditEntry.seq, AuditEntry.created_at, AuditEntry.actor, AuditEntry.action, AuditEntry.subject_type,
    AuditEntry.subject_id, AuditEntry.ticket, AuditEntry.reason, AuditEntry.task, AuditEntry.customer,
    AuditEntry.outcome, AuditEntry.details, AuditEntry.prev_hash, AuditEntry.hash,
)


def python_matches(row) -> bool:
    """Whether a full entry row hashes to its stored hash, computed in Python."""
    try:
        return digest(row.prev_hash, seq=row.seq, created_at=timestamp(row.created_at), actor=row.actor,
                      action=row.action, subject_type=row.subject_type, subject_id=row.subject_id,
                      ticket=row.ticket, reason=row.reason, task=row.task, customer=row.customer,
                      outcome=row.outcome, details=row.details) == row.hash
    except (AttributeError, TypeError, ValueError):  # a NULL or mistyped column cannot be what was hashed
        return False


def recheck(conn: Connection, seq: int) -> bool:
    """Hash entry `seq` again in Python (the SQL form disagreed with its stored hash)."""
    row = conn.execute(select(*_ENTRY_COLUMNS).where(AuditEntry.seq == seq)).first()
    return row is not None and python_matches(row)


def fast_rows(conn: Connection, batch: int, seqs: tuple[int, int] | None = None, *, overlap: bool = False):
    """Rows (seq, prev_hash, hash, proof) and whether proof is bytes to hash; None when Python must do it all.

    `seqs` = (low, high) limits SQLite to one range of the trail (for the parallel pass).

    The raw driver cursors skip SQLAlchemy's row objects, a third of the time per entry; they
    run inside the connection's transaction, so they read the same snapshot.
    """
    dialect = conn.dialect.name
    driver = conn.connection.driver_connection
    if dialect == "sqlite":
        cursor = driver.cursor()
        cursor.arraysize = batch
        if seqs is None:
            cursor.execute(_SQLITE_PROOF)
        else:
            cursor.execute(_SQLITE_PROOF.replace("FROM audit_entries", "FROM audit_entries WHERE seq BETWEEN ? AND ?"),
                           seqs)
        return cursor, True
    if dialect == "postgresql":
        if overlap:
            return OverlappedPass(conn, driver, batch), False
        bad = _postgres_first_bad(conn, driver)
        if bad is None:
            return None
        return _postgres_links(driver, batch, bad), False
    return None


class OverlappedPass:
    """The links, streamed while another connection looks for content mismatches in the same snapshot.

    The two halves take about the same time and use different cores, so together they take
    the longer one. The links are yielded as if every entry's content matched: `exact()` then
    says whether that was true, and when it was not (or SQL could not tell), the caller must
    verify again in one exact pass.
    """

    def __init__(self, conn: Connection, driver, batch: int):
        self._conn = conn
        with driver.cursor() as cursor:
            cursor.execute("SELECT pg_catalog.pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        self._suspects: list[int] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._find_suspects, args=(conn.engine, snapshot), daemon=True)
        self._thread.start()
        self._links = _postgres_links(driver, batch, bad=0)

    def _find_suspects(self, engine, snapshot: str) -> None:
        from psycopg import sql

        raw = engine.raw_connection()
        try:
            other = raw.driver_connection
            other.rollback()
            with other.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
                cursor.execute(_POSTGRES_SUSPECTS)
                self._suspects = [seq for (seq,) in cursor]
            other.rollback()
        except BaseException as exc:  # re-raised in the caller's thread by exact()
            self._error = exc
        finally:
            raw.close()

    def __iter__(self):
        return self._links

    def close(self) -> None:
        self._links.close()
        self._thread.join()

    def exact(self) -> bool:
        """Whether every entry's content matched its hash, so the links pass told the whole truth."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return _first_true_mismatch(self._conn, self._suspects) == 0


def exact(rows) -> bool:
    """Whether a pass over these rows was exact; only an overlapped pass can need a second one."""
    return rows.exact() if isinstance(rows, OverlappedPass) else True


def _postgres_links(driver, batch: int, bad: int):
    with driver.cursor(name="audit_verify_links") as cursor:  # server-side: memory stays flat
        cursor.itersize = batch
        cursor.execute(_LINKS)
        for seq, prev_hash, chain_hash in cursor:
            yield seq, prev_hash, chain_hash, seq != bad


def _postgres_first_bad(conn: Connection, driver) -> int | None:
    """The first seq whose content truly does not match its hash (0 for none); None if SQL cannot tell."""
    # No LIMIT: with one the planner walks the primary key alone instead of scanning in parallel.
    with driver.cursor() as cursor:
        cursor.execute(_POSTGRES_SUSPECTS)
        suspects = [seq for (seq,) in cursor]
    return _first_true_mismatch(conn, suspects)


def _first_true_mismatch(conn: Connection, suspects: list[int]) -> int | None:
    """Of the seqs SQL flagged, the first that Python confirms (0 for none); None past MAX_FALSE_ALARMS."""
    false_alarms = 0
    for seq in suspects:
        if not recheck(conn, seq):
            return seq
        false_alarms += 1
        if false_alarms > MAX_FALSE_ALARMS:
            return None
    return 0


def python_rows(conn: Connection, batch: int):
    """Rows (seq, prev_hash, hash, matches) hashed entirely in Python: slower, but needs nothing of the database."""
    return _python_rows(conn, batch), False


def _python_rows(conn: Connection, batch: int):
    result = conn.execution_options(yield_per=batch).execute(select(*_ENTRY_COLUMNS).order_by(AuditEntry.seq))
    try:
        for row in result:
            yield row.seq, row.prev_hash, row.hash, python_matches(row)
    finally:
        result.close()
