"""Comparing text without regard to case, in a way an index serves.

`folded(column) == value.lower()` compiles to `lower(column) = :value` on PostgreSQL, served by an
index on `lower(column)`; to `column COLLATE NOCASE = :value` on SQLite, served by an index on the
column with that collation (SQLite cannot reflect an index on lower(), and would warn about it); and
on MySQL and MariaDB, whose default collations already ignore case, to the bare column, served by
its own index. The value is given in lower case.
"""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class folded(FunctionElement):  # noqa: N801 (named like the SQL functions it stands for)
    """The text compared without regard to case (not registered as func.lower: that stays lower())."""

    type = String()
    name = "folded"
    inherit_cache = True


@compiles(folded)
def _lower(element, compiler, **kw) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _nocase(element, compiler, **kw) -> str:
    return f"{compiler.process(element.clauses, **kw)} COLLATE NOCASE"


@compiles(folded, "mysql")
def _as_collated(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)
