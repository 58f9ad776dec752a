"""TaskContext: everything a task may touch, and the record of what it changed.

A task reads and writes the target database only through its context, so the runner can
show a preview, lock rows, detect concurrent changes and audit the exact diff.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from console.direct import send
from console.folding import folded
from console.formatting import column_kind
from console.jsontext import jsonable
from console.tasks.spec import Refusal
from console.tasks.tables import TargetTables

OUTBOX_TABLE = "email_outbox"
OPTIONAL_OUTBOX_COLUMNS = ("customer_id", "order_id")
ROW_LOCKS = ("postgresql", "mysql", "mariadb")  # the databases with row locks (FOR UPDATE); not SQLite
_UNKNOWN = object()  # not asked yet


def thing(table: str) -> str:
    """A table name in words, singular: 'orders' -> 'order', 'order_items' -> 'order item'."""
    words = table.replace("_", " ")
    if words.endswith("ies"):
        return words[:-3] + "y"
    if words.endswith("sses"):
        return words[:-2]
    if words.endswith("s") and not words.endswith("ss"):
        return words[:-1]
    return words


def _comparison(table_name: str, name: str, value) -> str:
    """How a column is compared with a value: "null", "folded" or "equal". An email address compares without
    regard to case (the typed one is in lower case, the product may hold it in any case)."""
    if value is None:
        return "null"
    if isinstance(value, str) and column_kind(table_name, name) == "email":
        return "folded"
    return "equal"


def _condition(column, how: str, name: str):
    if how == "null":
        return column.is_(None)
    if how == "folded":
        return folded(column) == bindparam(name)
    return column == bindparam(name)


def _same(a, b) -> bool:
    return a is b or (type(a) is type(b) and a == b) or (
        a is not None and b is not None and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _exact_text_collation(dialect) -> str | None:
    # MySQL's usual collations find 'Anna' equal to 'anna ', so a conditional update would miss
    # such a change made under it. The parameter's collation wins over the column's (the column's
    # text is converted to the connection's utf8mb4), and the binary one compares bytes, no padding.
    if dialect.name not in ("mysql", "mariadb"):
        return None
    return "utf8mb4_nopad_bin" if dialect.is_mariadb else "utf8mb4_0900_bin"


class TaskContext:
    """What a task may use: reads, conditional writes, emails after commit, and who asked and why."""

    def __init__(self, session: Session, tables: TargetTables, *, actor: str, ticket: str, reason: str,
                 params: dict, now: datetime, is_preview: bool, prefetched=None):
        self.session = session
        self.actor = actor
        self.ticket = ticket
        self.reason = reason
        self.params = params
        self.now = now
        self.is_preview = is_preview
        self._tables = tables
        # Row locks exist on PostgreSQL and MySQL/MariaDB, not SQLite. A preview takes them too: it then
        # waits for a run in flight on the same rows and shows fresh values instead of refusing on a stale read.
        self._locks = session.get_bind().dialect.name in ROW_LOCKS
        self.changes: list[dict] = []
        self._updated: dict[tuple[str, Any], dict] = {}
        self._written: dict[tuple[str, Any], dict] = {}
        self.effects: list[dict] = []
        self.seen: dict[str, Any] = {}
        self._collation: Any = _UNKNOWN
        self._conn = None  # the connection of the task's transaction, once asked for
        # A batch's reads of its runs' rows (console.tasks.prefetch.BatchReads), looked up before querying.
        self._prefetched = prefetched

    # ---- reading -----------------------------------------------------------------------

    def _connection(self):
        """The session's connection, in its transaction: a task's reads and writes are Core statements,
        which the ORM's execution layer would only add cost to (the target session holds no objects).
        Asked of the session once: a task runs in one transaction (the outbox, after it, in another)."""
        if self._conn is None:
            self._conn = self.session.connection()
        return self._conn

    def _table(self, name: str) -> Table:
        if not isinstance(name, str) or not name:
            raise ValueError("a table name is required")
        return self._tables.get(name, self.session)

    @staticmethod
    def _key_column(table: Table):
        columns = list(table.primary_key.columns)
        if len(columns) != 1:
            raise ValueError(f"table {table.name!r} has no single-column primary key; look rows up by columns")
        return columns[0]

    @staticmethod
    def _column(table: Table, name: str):
        if name not in table.c:
            raise ValueError(f"table {table.name!r} has no column {name!r}")
        return table.c[name]

    def _rows(self, table_name: str, key, where: dict, lock: bool, limit: int | None) -> list[dict]:
        table = self._table(table_name)
        if key is None and not where:
            raise ValueError("give a key or at least one column=value condition")
        values = {"ctx_key": key} if key is not None else {}
        comparisons = []
        for i, (name, value) in enumerate(where.items()):
            self._column(table, name)
            how = _comparison(table_name, name, value)
            comparisons.append((name, how))
            if how != "null":
                values[f"ctx_w{i}"] = value.lower() if how == "folded" else value
        locked = lock and self._locks
        if self._prefetched is not None:
            rows = self._kept(table_name, key, where, comparisons, locked, limit)
            if rows is not None:
                if rows:
                    self._notice(table_name, rows[0])
                return rows

        def build():
            conditions = [self._key_column(table) == bindparam("ctx_key")] if key is not None else []
            conditions += [_condition(table.c[name], how, f"ctx_w{i}") for i, (name, how) in enumerate(comparisons)]
            statement = select(table).where(*conditions).limit(limit)
            if len(table.primary_key.columns):
                statement = statement.order_by(*table.primary_key.columns)
            return statement.with_for_update() if locked else statement

        statement = self._tables.statement(("read", table_name, key is not None, tuple(comparisons), locked, limit),
                                           build)
        rows = [row._asdict() for row in send(self._connection(), statement, values)]
        if rows:
            self._notice(table_name, rows[0])
        return rows

    def _kept(self, table_name: str, key, where: dict, comparisons: list, locked: bool,
              limit: int | None) -> list[dict] | None:
        """The rows the batch read for this lookup (by key alone, or by one column compared exactly), else None."""
        if key is not None and not where:
            row = self._prefetched.row(table_name, key, locked)
            return None if row is None else [row]
        if key is None and len(comparisons) == 1 and comparisons[0][1] == "equal":
            name = comparisons[0][0]
            rows = self._prefetched.rows(table_name, name, where[name], locked)
            return None if rows is None else rows[:limit]
        return None

    def _notice(self, table_name: str, row: dict) -> None:
        """Remember the customer a task looked at, for run history: a customer's row, or a row that belongs to one
        (the product package's customer record, and the records that BelongsTo it)."""
        link = self._tables.customer_links.get(table_name)
        if link is None:
            return
        if link[0] == "self":
            self.seen.setdefault("customer", row.get(link[2]))
            self.seen.setdefault("customer_id", row.get(link[1]))
        else:
            self.seen.setdefault("customer_id", row.get(link[1]))

    @staticmethod
    def _describe(table_name: str, key, where: dict) -> str:
        if key is not None:
            return f"{thing(table_name)} {key}"
        return f"{thing(table_name)} with " + " and ".join(f"{name} {value}" for name, value in where.items())

    def find(self, table: str, key=None, *, lock: bool = False, **where) -> dict | None:
        """The one row matching the key or the conditions, or None; Refusal when several match."""
        rows = self._rows(table, key, where, lock, limit=2)
        if len(rows) > 1:
            raise Refusal(f"more than one {self._describe(table, key, where)}; be more specific")
        return rows[0] if rows else None

    def get(self, table: str, key=None, *, lock: bool = False, **where) -> dict:
        """The one row matching the key or the conditions; Refusal ("order 1002 not found") when none."""
        row = self.find(table, key, lock=lock, **where)
        if row is None:
            if key is not None:
                raise Refusal(f"{thing(table)} {key} not found")
            raise Refusal(f"no {self._describe(table, None, where)}")
        return row

    def find_all(self, table: str, *, lock: bool = False, limit: int | None = None, **where) -> list[dict]:
        """Every row matching the conditions (at most `limit`), in key order; [] when none."""
        return self._rows(table, None, where, lock, limit)

    # ---- writing -----------------------------------------------------------------------

    def update(self, table: str, row: dict, **values) -> None:
        """Change columns of a row read with get/find, only if they still hold what was read."""
        target = self._table(table)
        key_column = self._key_column(target)
        if key_column.name not in row:
            raise ValueError(f"update needs a row read from {table!r} with get() or find()")
        key = row[key_column.name]
        for name in values:
            self._column(target, name)
            if name == key_column.name:
                raise ValueError("a task cannot change a primary key")
            if name not in row:
                raise ValueError(f"the row passed to update has no column {name!r}; read it with get()")
        # The caller's dict keeps the values it read; what this run wrote since is tracked here,
        # so that a second update of the same row compares against the right values.
        written = self._written.setdefault((table, key), {})
        current = {**row, **written}
        changed = {name: value for name, value in values.items() if not _same(current[name], value)}
        if not changed:
            return
        if self._prefetched is not None:
            self._prefetched.forget_row(table, key)
        names = tuple(changed)
        checks = tuple(self._still(current[name]) for name in names)

        def build():
            conditions = [key_column == bindparam("ctx_key")]
            for i, (name, how) in enumerate(zip(names, checks)):
                column = target.c[name]
                conditions.append(column.is_(None) if how == "null" else column == (
                    bindparam(f"ctx_c{i}", type_=String()).collate(how) if how != "equal" else bindparam(f"ctx_c{i}")))
            return update(target).where(*conditions).values({name: bindparam(f"ctx_v{i}")
                                                            for i, name in enumerate(names)})

        statement = self._tables.statement(("update", table, names, checks), build)
        bound = {"ctx_key": key}
        for i, name in enumerate(names):
            bound[f"ctx_v{i}"] = changed[name]
            if checks[i] != "null":
                bound[f"ctx_c{i}"] = current[name]
        result = send(self._connection(), statement, bound)
        if result.rowcount != 1:
            raise Refusal(f"{thing(table)} {key} changed while you were working; preview again")
        self._record_update(table, key, {name: current[name] for name in changed}, changed)
        written.update(changed)

    def _still(self, value) -> str:
        """How a column is checked to still hold exactly `value`: "null", "equal", or the collation under which
        it compares: on MySQL text compares byte by byte, without padding."""
        if value is None:
            return "null"
        # Asked of the session's connection, which has read the row: which server it is (MariaDB or
        # MySQL) is only known once connected.
        return (self._text_collation() if isinstance(value, str) else None) or "equal"

    def _text_collation(self) -> str | None:
        if self._collation is _UNKNOWN:
            self._collation = _exact_text_collation(self._connection().dialect)
        return self._collation

    def _record_update(self, table: str, key, before: dict, after: dict) -> None:
        existing = self._updated.get((table, key))
        if existing is None:
            change = {"table": table, "key": jsonable(key), "before": {}, "after": {}}
            self._updated[(table, key)] = change
            self.changes.append(change)
            existing = change
        for name, value in before.items():
            existing["before"].setdefault(name, jsonable(value))
        for name, value in after.items():
            existing["after"][name] = jsonable(value)

    def insert(self, table: str, **values) -> Any:
        """Insert a row and return its key; the preview shows it without a key."""
        target = self._table(table)
        for name in values:
            self._column(target, name)
        if self._prefetched is not None:
            self._prefetched.forget_table(table)
        # One statement per table, its columns given by the values: building insert().values() anew for each
        # row cost more than running it (a bulk of refunds inserts a row per item).
        statement = self._tables.statement(("insert", table), lambda: insert(target))
        result = self._connection().execute(statement, values)
        key = result.inserted_primary_key[0] if result.inserted_primary_key else None
        self.changes.append({"table": table, "key": None if self.is_preview else jsonable(key), "before": None,
                             "after": {name: jsonable(value) for name, value in values.items()}})
        return key

    def send_email(self, to: str, template: str, subject: str, customer_id: int | None = None,
                   order_id: int | None = None) -> None:
        """Queue an email in the shop's outbox once the change has committed (never in a preview)."""
        if not to or not isinstance(to, str):
            raise ValueError("send_email needs a recipient address")
        if not template or not subject:
            raise ValueError("send_email needs a template and a subject")
        self.effects.append(jsonable({"kind": "email", "to": to, "template": template, "subject": subject,
                                      "customer_id": customer_id, "order_id": order_id}))

    def from_json(self, table: str, column: str, value):
        """Turn a value stored in a run's JSON diff back into the column's Python type."""
        if value is None or not isinstance(value, str):
            return value
        try:
            python_type = self._column(self._table(table), column).type.python_type
        except NotImplementedError:
            return value
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
        return value

    # ---- for the runner ----------------------------------------------------------------

    def effect_lines(self) -> list[str]:
        return [f"email {effect['template']!r} to {effect['to']}" for effect in self.effects]

    def customer_email(self) -> str:
        """The email of the customer this run concerns, looked up from an order when needed."""
        if self.seen.get("customer"):
            return self.seen["customer"].lower()
        customer_id = self.seen.get("customer_id")
        own = next((table for table, link in self._tables.customer_links.items() if link[0] == "self"), None)
        if customer_id is None or own is None:
            return ""
        _self, key, column = self._tables.customer_links[own]
        table = self._table(own)
        email = self._connection().scalar(select(self._column(table, column)).where(self._column(table, key) ==
                                                                                     customer_id))
        return (email or "").lower()  # runs name their customer in lower case, as the run history searches

    def write_outbox(self) -> int:
        """Insert the queued emails (the runner calls this after the target commit)."""
        return write_outboxes([self])

    def outbox_rows(self) -> list[dict]:
        """The outbox rows of the queued emails."""
        return [{"to_address": e["to"], "template": e["template"], "subject": e["subject"][:200],
                 "customer_id": e["customer_id"], "order_id": e["order_id"], "created_at": self.now}
                for e in self.effects]


def write_outboxes(contexts: list[TaskContext]) -> int:
    """Insert the emails queued by these contexts (runs whose changes have committed) in one statement, on the
    first one's session: a batch of runs queues its emails together, not one INSERT per run."""
    rows = [row for ctx in contexts for row in ctx.outbox_rows()]
    if not rows:
        return 0
    first = contexts[0]
    first._conn = None  # the task's transaction has committed: the outbox goes in the next one
    table = first._table(OUTBOX_TABLE)
    # A customer and an order are optional columns of a product's outbox (a SaaS has no orders): left out when
    # the table has none and no email names one.
    for name in OPTIONAL_OUTBOX_COLUMNS:
        if name not in table.c:
            if any(row[name] is not None for row in rows):
                raise ValueError(f"an email gives {name}, and the product's {OUTBOX_TABLE} table has no such column")
            for row in rows:
                del row[name]
    first._connection().execute(insert(table), rows)
    return len(rows)
