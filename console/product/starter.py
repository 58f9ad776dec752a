"""`product inspect`: a starter product package written from an existing database, working without edits.

Every table with a one-column primary key becomes a record named after it; unique columns are
exact search keys, indexed text columns prefix keys, indexed columns sort keys; columns named
like personal data are masked, and those named like phone numbers or people's names say what they hold
(`holds`); foreign keys become related records both ways. The first table named like the product's
customers (customers, users, accounts...) that has an email column is their record (`customer="email"`).
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

from sqlalchemy import LargeBinary, MetaData, UniqueConstraint
from sqlalchemy.engine import Connection, Engine

from console.product.check import column_unique_indexes
from console.product.kinds import broken
from console.product.schema import python_type

LIST_COLUMNS = 8
TITLE_NAMES = ("name", "title", "email", "subject", "number", "reference")
# First match wins, so an email_address is an email and an ip_address is hidden, not a street.
PERSONAL_WORDS = (
    ("email", {"email", "mail"}),
    ("phone", {"phone", "mobile", "tel", "telephone", "fax"}),
    ("hidden", {"ip", "birth", "birthday", "birthdate", "dob"}),
    ("postcode", {"postcode", "zip", "zipcode", "postal"}),
    ("name", {"name", "firstname", "lastname", "fullname", "surname", "username"}),
    ("text", {"address", "street", "line1", "line2", "addr"}),
)
# Columns whose name says what their values hold (console.product.kinds), the words run together: a person's
# name, not a `name` or `username` (a product's or a login's may hold digits). Given only when the values agree.
KIND_NAMES = (
    ("phone", {"phone", "mobile", "tel", "telephone", "fax", "phonenumber", "mobilenumber"}),
    ("name", {"firstname", "lastname", "fullname", "surname", "givenname", "familyname"}),
)


# Tables named like the product's customers, in the order one is picked when several are there.
CUSTOMER_TABLES = ("customers", "customer", "users", "user", "accounts", "account", "clients", "client", "members",
                   "member", "people", "persons", "contacts")


class StarterError(ValueError):
    """The package cannot be written (a bad name, an existing folder)."""


def personal_mask(column: str) -> str | None:
    words = set(re.split(r"[^a-z0-9]+", column.lower()))
    return next((mask for mask, names in PERSONAL_WORDS if words & names), None)


def kind_of(column: str) -> str | None:
    joined = re.sub(r"[^a-z0-9]+", "", column.lower())
    return next((kind for kind, names in KIND_NAMES if joined in names), None)


def record_name(table: str, taken: set[str]) -> str:
    name = re.sub(r"\W", "_", table, flags=re.ASCII)[:60] or "table"
    if not re.match(r"[A-Za-z_]", name):
        name = "t_" + name
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _leading(table) -> tuple[set[str], set[str]]:
    """(columns an index or unique constraint leads with, columns unique on their own)."""
    leading, unique = set(), set()
    for found in (*table.indexes, *(c for c in table.constraints if isinstance(c, UniqueConstraint))):
        names = [c.name for c in found.columns]
        if names:
            leading.add(names[0])
            if len(names) == 1 and (isinstance(found, UniqueConstraint) or found.unique):
                unique.add(names[0])
    return leading, unique


def customer_table(tables) -> str | None:
    """The table whose rows are the product's customers: the first named like them that has an email column."""
    by_name = {table.name.lower(): table for table in tables if "email" in table.columns}
    return next((by_name[name].name for name in CUSTOMER_TABLES if name in by_name), None)


def _declaration(table, name: str, names: dict[str, str], relations: list[str],
                 conn: Connection | None = None, customer: bool = False) -> list[str]:
    key = table.primary_key.columns.values()[0].name
    leading, unique = _leading(table)
    leading.add(key)
    column_names = [c.name for c in table.columns]
    text_columns = {c.name for c in table.columns if python_type(c) is str}
    fields = {"label": name.replace("_", " ").capitalize()}
    if names[table.name] != table.name:
        fields["table"] = table.name
    fields["key"] = key
    fields["title"] = next((c for c in TITLE_NAMES if c in column_names), key)
    fields["exact"] = [key] + sorted(unique - {key})
    fields["prefix"] = sorted(leading & text_columns)
    fields["sort"] = sorted(leading - {key} - text_columns)
    fields["columns"] = [c.name for c in table.columns if not isinstance(c.type, LargeBinary)][:LIST_COLUMNS]
    if customer:
        fields["customer"] = "email"
    lines = ["    Record(", f"        {name!r},"]
    lines += [f"        {field}={value!r}," for field, value in fields.items() if value != []]
    personal = {c: personal_mask(c) for c in column_names if personal_mask(c) and c != key}
    if personal:
        lines.append("        personal={" + ", ".join(f"{c!r}: mask.{m}" for c, m in personal.items()) + "},")
    holds = {c: kind_of(c) for c in column_names if c in text_columns and kind_of(c) and conn is not None
             and broken(conn, table.name, key, c, kind_of(c)) is None}
    if holds:
        lines.append(f"        holds={holds!r},")
    if "currency" in column_names:
        money = [c.name for c in table.columns if python_type(c) is int and c.name.endswith(("_cents", "_minor"))]
        if money:
            lines.append("        money={" + ", ".join(f"{c!r}: Money(currency_column='currency')" for c in money)
                         + "},")
    if relations:
        lines.append("        related=[")
        lines += [f"            {relation}," for relation in relations]
        lines.append("        ],")
    lines.append("    ),")
    return lines


def _relations(tables, names: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each record's related records, both ways, as source lines; and notes on foreign keys left out."""
    relations: dict[str, list[str]] = {name: [] for name in names.values()}
    labels: dict[str, set[str]] = {name: set() for name in names.values()}
    notes = []

    def add(owner: str, kind: str, other: str, via: str) -> None:
        label = other if other not in labels[owner] else f"{other}_by_{via}"
        labels[owner].add(label)
        named = "" if label == other else f", name={label!r}"
        relations[owner].append(f"{kind}({other!r}, via={via!r}{named})")

    for table in tables:
        child = names[table.name]
        leading, _unique = _leading(table)
        for key in sorted(table.foreign_key_constraints, key=lambda k: [c.name for c in k.columns]):
            if len(key.columns) != 1 or key.referred_table.name not in names:
                continue
            via, parent = key.columns.values()[0].name, names[key.referred_table.name]
            add(child, "BelongsTo", parent, via)
            if via in leading:
                add(parent, "HasMany", child, via)
            else:
                notes.append(f"# {parent} -> {child}: index {table.name}.{via} to list them on the {parent} record")
    return relations, notes


def render_records(metadata: MetaData, conn: Connection | None = None) -> str:
    """The records.py source of a starter package for the reflected tables; with `conn`, the columns' values
    are read to tell which kinds they hold (`holds`)."""
    tables = [t for t in metadata.sorted_tables if len(t.primary_key.columns) == 1]
    skipped = sorted(t.name for t in metadata.sorted_tables if len(t.primary_key.columns) != 1)
    taken: set[str] = set()
    names = {table.name: record_name(table.name, taken) for table in sorted(tables, key=lambda t: t.name)}
    relations, notes = _relations(tables, names)
    lines = ['"""The records support looks up: written by `support-console product inspect`; edit freely."""',
             "from console.product import BelongsTo, HasMany, Money, Record, mask  # noqa: F401", ""]
    lines += notes
    lines += [f"# {name!r} is left out: it has no one-column primary key" for name in skipped]
    lines.append("RECORDS = [")
    customers = customer_table(tables)
    for table in sorted(tables, key=lambda t: t.name):
        lines += _declaration(table, names[table.name], names, relations[names[table.name]], conn,
                              customer=table.name == customers)
    lines.append("]")
    return "\n".join(lines) + "\n"


def write_starter(engine: Engine, package: str, folder: Path) -> Path:
    """Reflect the database and write FOLDER/PACKAGE/; return its path. Never overwrites."""
    if not package.isidentifier() or keyword.iskeyword(package):
        raise StarterError(f"--package: {package!r} is not a Python package name (letters, digits, underscores)")
    target = folder / package
    if target.exists():
        raise StarterError(f"{target} already exists; choose another --package or --out (nothing was written)")
    metadata = MetaData()
    metadata.reflect(bind=engine)
    if not metadata.tables:
        raise StarterError(f"the database at {engine.url.render_as_string(hide_password=True)} has no tables")
    with engine.connect() as conn:
        for table in metadata.tables.values():  # SQLite's UNIQUE on a column is no reflected constraint
            for columns in column_unique_indexes(conn, table.name):
                table.append_constraint(UniqueConstraint(*(table.c[name] for name in columns)))
        source = render_records(metadata, conn)
    target.mkdir(parents=True)
    (target / "__init__.py").write_text(
        f'"""The {package} product package: what support looks up (records.py)."""\n'
        "from .records import RECORDS\n\n__all__ = [\"RECORDS\"]\n")
    (target / "records.py").write_text(source)
    return target
