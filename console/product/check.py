"""`product check`: every declaration compared with the database, each problem named.

A search or sort key needs an index that leads with its column (a unique constraint or the
primary key will do), and a substring key its search index (console.product.search_index);
without one, every search would read the whole table. A column given a kind (`holds`) must hold no
character its kind never holds (console.product.kinds): a search leaves the column's substring step out for
a text with such a character, so a value holding one would not be found by it.
"""
from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from console.formatting import counted
from console.product import search_index
from console.product.declare import HasMany
from console.product.kinds import DESCRIBED, broken
from console.product.loading import Product


def leading_columns(inspector, table: str) -> set[str]:
    """Columns some index, unique constraint or the primary key of `table` starts with."""
    leading = set()
    primary = inspector.get_pk_constraint(table).get("constrained_columns") or []
    if primary:
        leading.add(primary[0])
    for found in (*inspector.get_indexes(table), *inspector.get_unique_constraints(table)):
        columns = [c for c in found.get("column_names") or [] if c]
        if columns:
            leading.add(columns[0])
    leading.update(columns[0] for columns in column_unique_indexes(inspector.bind, table))
    return leading


def column_unique_indexes(conn, table: str) -> list[list[str]]:
    """The columns of each index SQLite makes for a UNIQUE written on a column (`email TEXT UNIQUE`), which
    SQLAlchemy reflects neither as an index nor as a unique constraint; [] on other databases."""
    if conn.dialect.name != "sqlite":
        return []
    if isinstance(conn, Engine):  # an inspector's bind may be either
        with conn.connect() as opened:
            return column_unique_indexes(opened, table)
    found = []
    for row in conn.exec_driver_sql(f'PRAGMA index_list("{table.replace(chr(34), chr(34) * 2)}")'):
        if row[2] and row[3] == "u":  # (seq, name, unique, origin, partial): origin "u", a UNIQUE's own index
            name = row[1].replace('"', '""')
            found.append([info[2] for info in conn.exec_driver_sql(f'PRAGMA index_info("{name}")')])
    return found


def _foreign_values(conn: Connection, record, name: str) -> list[str]:
    """The problem of a column some of whose values hold a character its kind (`holds`) never holds: a search
    for a text with that character would not find them. The line names the first row's key, not its value."""
    kind = record.holds[name]
    found = broken(conn, record.table, record.key, name, kind)
    if found is None:
        return []
    values = f"{counted(found.count, 'value')} of {name!r} {'holds' if found.count == 1 else 'hold'}"
    return [f"{record.name}: holds: {values} {DESCRIBED[kind]}, which no {kind} "
            f"holds (first: key {found.key!r}, {found.char!r}); a search for a text with one leaves {name!r} out, "
            "so they would not be found: clean them, or leave the column out of holds"]


def check_product(product: Product, engine: Engine) -> list[str]:
    """Every problem of the product's declarations against the database, one line each; [] when none."""
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    problems: list[str] = []
    columns: dict[str, set[str]] = {}
    indexed: dict[str, set[str]] = {}
    for record in product.records.values():
        if record.table not in tables:
            problems.append(f"{record.name}: table {record.table!r} does not exist")
            continue
        columns[record.name] = {c["name"] for c in inspector.get_columns(record.table)}
        indexed[record.name] = leading_columns(inspector, record.table)
        for field, names in record.referenced().items():
            for name in dict.fromkeys(names):
                if name not in columns[record.name]:
                    problems.append(f"{record.name}: {field}: column {name!r} does not exist in table "
                                    f"{record.table!r}")
        for field in ("exact", "prefix", "sort"):
            for name in getattr(record, field):
                if name in columns[record.name] and name not in indexed[record.name]:
                    problems.append(f"{record.name}: {field}: no index on {record.table!r} leads with {name!r}")
    with engine.connect() as conn:
        for index in search_index.declared(product):
            if index.column in columns.get(index.record, ()) and not search_index.exists(conn, index):
                problems.append(f"{index.record}: substring: no substring index on {index.table!r}.{index.column!r} "
                                f"(`support-console product index` makes {index.name})")
        for record in product.records.values():
            problems += [problem for name in record.holds if name in columns.get(record.name, ())
                         for problem in _foreign_values(conn, record, name)]
    for record in product.records.values():
        for relation in record.related:
            other = product.records[relation.record]
            if not isinstance(relation, HasMany) or other.name not in columns:
                continue
            if relation.via not in columns[other.name]:
                problems.append(f"{record.name}: related: column {relation.via!r} does not exist in table "
                                f"{other.table!r}")
            elif relation.via not in indexed[other.name]:
                problems.append(f"{record.name}: related: no index on {other.table!r} leads with {relation.via!r}")
    return problems
