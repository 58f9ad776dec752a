"""Batch reads: the rows a chunk of runs will read, read once for the chunk (a task's `batch_reads` hook).

A bulk runs a chunk of runs of one task in one target transaction (console.tasks.batch). A task that reads
the same kind of row for every run (`refund_order`: its order, the order's payments, its customer) would ask
the database the same question once per run. Its `batch_reads(reads, items)` asks it once for the chunk:

    def refund_reads(reads, items):
        orders = reads.get_many("orders", [params["order_id"] for params in items], lock=True)
        reads.find_many("payments", "order_id", [params["order_id"] for params in items])
        reads.get_many("customers", [order["customer_id"] for order in orders])

Each run's own `ctx.get` / `ctx.find` / `ctx.find_all` then finds those rows here instead of querying, and the
task's code does not change: a read that is not here (another table, another condition, a key the hook did
not read, a row that did not exist) queries as before. What is kept stays what a query would answer in the
same transaction:

- a row read with `lock=True` was locked by the batch read (FOR UPDATE, in key order) and stays locked to the
  end of the transaction; a read that asks for a lock never takes a row the batch read without one;
- a write through the context forgets what it may have changed before the next run reads it: an update
  forgets its row and the table's lookups by column, an insert everything of its table. A run rolled back
  to its savepoint wrote through the context first, so what it changed is forgotten too;
- only what was found is kept: a key or a value without a row queries again (and refuses as it would);
- a lookup by an email column (compared without regard to case) is never answered here.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from console.tasks.tables import TargetTables

_GROUP = 500  # keys a statement asks for at most


class BatchReads:
    """Rows read for a chunk of runs, in its target transaction; what the runs' contexts look up first.

    A key or value is found only when of the type the row holds: True == 1 and 1 == 1.0 hash alike, and a key
    of another type is the database's to compare."""

    def __init__(self, session, tables: TargetTables, *, locks: bool):
        self._session = session
        self._conn = session.connection()
        self._tables = tables
        self._locks = locks  # the database has row locks (not SQLite)
        self._by_key: dict[tuple[str, Any], tuple[dict, bool, type]] = {}  # (table, key) -> (row, locked, key type)
        self._by_column: dict[tuple[str, str], tuple[dict, bool]] = {}  # (table, column) -> ({value: rows}, locked)

    def _table(self, name: str):
        return self._tables.get(name, self._session)

    def _select(self, table, column, values: list, lock: bool) -> list[dict]:
        """The rows whose `column` is one of `values`, in key order, read in groups of _GROUP."""
        keys = list(table.primary_key.columns)
        statement = select(table).where(column.in_(bindparam("batch_values", expanding=True))).order_by(*keys)
        if lock and self._locks:
            statement = statement.with_for_update()
        unique = list(dict.fromkeys(value for value in values if value is not None))
        rows = []
        for first in range(0, len(unique), _GROUP):
            rows += [dict(row._mapping) for row in
                     self._conn.execute(statement, {"batch_values": unique[first:first + _GROUP]})]
        return rows

    def get_many(self, table: str, keys: list, *, lock: bool = False) -> list[dict]:
        """The rows of `table` whose (one-column) primary key is in `keys`, in key order (missing ones left out);
        each run's `ctx.get(table, key)` / `ctx.find(table, key)` then finds its row here."""
        target = self._table(table)
        columns = list(target.primary_key.columns)
        if len(columns) != 1:
            raise ValueError(f"table {table!r} has no single-column primary key; use find_many")
        rows = self._select(target, columns[0], keys, lock)
        for row in rows:
            key = row[columns[0].name]
            self._by_key[(table, key)] = (row, lock and self._locks, type(key))
        return [dict(row) for row in rows]

    def find_many(self, table: str, column: str, values: list, *, lock: bool = False) -> list[dict]:
        """The rows of `table` whose `column` holds one of `values`, in key order; each run's
        `ctx.find_all(table, column=value)` (and `find`/`get` by that column alone) then finds them here."""
        target = self._table(table)
        if column not in target.c:
            raise ValueError(f"table {table!r} has no column {column!r}")
        rows = self._select(target, target.c[column], values, lock)
        grouped: dict = {}
        for row in rows:
            grouped.setdefault(row[column], []).append(row)
        self._by_column[(table, column)] = (grouped, lock and self._locks)
        return [dict(row) for row in rows]

    # ---- for the runs' contexts ---------------------------------------------------------

    def row(self, table: str, key, locked: bool):
        """The row of this key (a copy), or None when the batch did not read it (query)."""
        kept = self._by_key.get((table, key))
        if kept is None or (locked and not kept[1]) or type(key) is not kept[2]:
            return None
        return dict(kept[0])

    def rows(self, table: str, column: str, value, locked: bool):
        """The rows whose column holds this value (copies, in key order), or None when the batch did not read
        them (query)."""
        kept = self._by_column.get((table, column))
        if kept is None or (locked and not kept[1]):
            return None
        grouped, _ = kept
        rows = grouped.get(value)
        if not rows or type(value) is not type(rows[0][column]):
            return None
        return [dict(row) for row in rows]

    def forget_row(self, table: str, key) -> None:
        """A run updates this row: its values and the table's lookups by column may no longer hold."""
        self._by_key.pop((table, key), None)
        self.forget_table(table, keep_keys=True)

    def forget_table(self, table: str, *, keep_keys: bool = False) -> None:
        for kept in [kept for kept in self._by_column if kept[0] == table]:
            del self._by_column[kept]
        if not keep_keys:
            for kept in [kept for kept in self._by_key if kept[0] == table]:
                del self._by_key[kept]
