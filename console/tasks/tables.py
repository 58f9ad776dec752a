"""The product's tables as tasks see them: reflected on first use, with the statements built over them and how a
row names its customer, kept for the app's lifetime (`app.extensions["task_tables"]`)."""
from __future__ import annotations

import threading
from typing import Any, Callable

from flask import current_app, has_app_context
from sqlalchemy import MetaData, Table
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.orm import Session

MAX_STATEMENTS = 500


class TargetTables:
    """Reflected target tables, loaded on first use and kept for the app's lifetime."""

    def __init__(self, customer_links: dict[str, tuple] | None = None):
        self.metadata = MetaData()
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()
        self._statements: dict[tuple, Any] = {}
        self._customer_links = customer_links

    @property
    def customer_links(self) -> dict[str, tuple]:
        """How a row of each table names its customer (console.product.loading.Product.customer_links): given,
        else the app's product package's, read at the first ask."""
        if self._customer_links is None:
            if not has_app_context():  # nothing to read from yet, and nothing kept: the app's answer comes later
                return {}
            product = current_app.extensions.get("product")
            self._customer_links = product.customer_links() if product is not None else {}
        return self._customer_links

    def statement(self, shape: tuple, build: Callable[[], Any]):
        """The statement of this shape (table, columns, how each compares), built once with bound parameters.

        Building a statement anew cost more than running it; the shapes tasks use are few, and past
        MAX_STATEMENTS (a task that varies its own limit, say) they are built each time, not kept.
        """
        statement = self._statements.get(shape)
        if statement is None:
            statement = build()
            if len(self._statements) < MAX_STATEMENTS:
                self._statements[shape] = statement
        return statement

    def get(self, name: str, session: Session) -> Table:
        table = self._tables.get(name)
        if table is not None:
            return table
        with self._lock:
            if name not in self._tables:
                try:
                    self._tables[name] = Table(name, self.metadata, autoload_with=session.connection())
                except NoSuchTableError:
                    raise LookupError(f"the target database has no table {name!r}") from None
            return self._tables[name]
