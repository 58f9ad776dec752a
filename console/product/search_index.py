"""The indexes behind substring search, one per declared `substring` column, and the conditions that use them.

- PostgreSQL: a `pg_trgm` GIN index (`gin_trgm_ops`), built CONCURRENTLY; searched with ILIKE '%text%'.
- SQLite: an FTS5 table with the `trigram` tokenizer over the column (external content, no copy of
  the text), kept in step by three triggers; searched with MATCH on the text as one phrase.
- MariaDB has no ngram parser (MySQL's is a plugin MariaDB lacks; Mroonga is an extra storage
  engine). InnoDB's FULLTEXT indexes words and their starts, so each value's suffixes are written,
  hex-encoded as words, into a side table kept in step by triggers: a text is inside a value when
  it starts one of its suffixes. A search asks FULLTEXT for the rows with a suffix starting with the
  text, then checks LIKE '%text%' on those rows only. (Trigrams as words were tried first: every
  row shares common ones, and intersecting them took seconds.)

All three match case-insensitively. A text needs three letters or digits in a row: pg_trgm
takes its trigrams from runs of letters and digits, and a shorter text would find everything.
The console creates these indexes only for a package that owns its schema (the demo shop, at
`init`) or when asked (`support-console product index`); `product check` names the missing ones.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, literal_column, select, text
from sqlalchemy.engine import Connection, Engine

from console.product.loading import Product

LIKE_ESCAPE = "/"
# Three letters or digits in a row: what a trigram index can use on every database.
SEARCHABLE_RUN = re.compile(r"[^\W_]{3}")
SUFFIX = 10  # characters of each suffix MariaDB's FULLTEXT keeps; LIKE checks the rest of a longer text
MARIADB_FUNCTION = "sc_suffixes"


@dataclass(frozen=True)
class SubstringIndex:
    """The index one record's substring column needs."""

    record: str
    table: str
    key: str
    column: str

    @property
    def name(self) -> str:
        name = f"sc_trgm_{self.table}_{self.column}"
        if len(name) <= 48:  # leaves room for the triggers' suffixes within MariaDB's 64 and PostgreSQL's 63
            return name
        return f"{name[:39]}_{hashlib.sha1(f'{self.table}.{self.column}'.encode()).hexdigest()[:8]}"


def declared(product: Product) -> list[SubstringIndex]:
    return [SubstringIndex(record.name, record.table, record.key, column)
            for record in product.records.values() for column in record.substring]


def searchable(text_: str) -> bool:
    """Whether a text can be searched inside values: three letters or digits in a row."""
    return bool(SEARCHABLE_RUN.search(text_))


def like_escaped(value: str) -> str:
    return value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


# --- does it exist ------------------------------------------------------------------------------------------


def exists(conn: Connection, index: SubstringIndex) -> bool:
    """Whether the database has the index (every part of it) for this column."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return conn.execute(text(
            "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            "JOIN pg_opclass oc ON oc.oid = i.indclass[0] WHERE i.indrelid = to_regclass(quote_ident(:table)) "
            "AND a.attname = :column AND oc.opcname IN ('gin_trgm_ops', 'gist_trgm_ops') AND i.indisvalid "
            "AND i.indpred IS NULL"), {"table": index.table, "column": index.column}).first() is not None
    parts = _parts(index)
    if dialect == "sqlite":
        found = set(conn.execute(text("SELECT name FROM sqlite_master WHERE name IN :names")
                                 .bindparams(bindparam("names", expanding=True)), {"names": parts}).scalars())
        return found == set(parts)
    if dialect in ("mysql", "mariadb"):
        schema = "SELECT COUNT(*) FROM information_schema.{} WHERE {} = DATABASE() AND {}"
        triggers = conn.execute(text(schema.format("TRIGGERS", "TRIGGER_SCHEMA", "TRIGGER_NAME IN :names"))
                                .bindparams(bindparam("names", expanding=True)), {"names": parts[1:]}).scalar()
        fulltext = conn.execute(text(schema.format("STATISTICS", "TABLE_SCHEMA", "TABLE_NAME = :side AND "
                                                   "COLUMN_NAME = 'suffixes' AND INDEX_TYPE = 'FULLTEXT'")),
                                {"side": index.name}).scalar()
        function = conn.execute(text(schema.format("ROUTINES", "ROUTINE_SCHEMA", "ROUTINE_NAME = :name")),
                                {"name": MARIADB_FUNCTION}).scalar()
        return triggers == 3 and fulltext >= 1 and function >= 1
    return False


def _parts(index: SubstringIndex) -> list[str]:
    """The index's table (FTS5 or side table) and its three triggers, by name."""
    return [index.name, f"{index.name}_ai", f"{index.name}_ad", f"{index.name}_au"]


def missing(engine: Engine, product: Product) -> list[SubstringIndex]:
    """The declared substring indexes the database lacks (over tables and columns that exist)."""
    with engine.connect() as conn:
        return [index for index in declared(product) if not exists(conn, index)]


# --- creating them ------------------------------------------------------------------------------------------


def create_missing(engine: Engine, product: Product, indexes: list[SubstringIndex] | None = None) -> list[str]:
    """Create each missing index; one line per index created, saying what it is."""
    created = []
    for index in missing(engine, product) if indexes is None else indexes:
        dialect = engine.dialect.name
        if dialect == "postgresql":
            _create_postgresql(engine, index)
            created.append(f"{index.record}.{index.column}: pg_trgm GIN index {index.name} on {index.table}")
        elif dialect == "sqlite":
            with engine.begin() as conn:
                _create_sqlite(conn, index)
            created.append(f"{index.record}.{index.column}: FTS5 trigram table {index.name} on {index.table}, "
                           "with 3 triggers")
        elif dialect in ("mysql", "mariadb"):
            with engine.begin() as conn:
                _create_mariadb(conn, index)
            created.append(f"{index.record}.{index.column}: trigram FULLTEXT table {index.name} on {index.table}, "
                           "with 3 triggers")
        else:
            raise ValueError(f"substring search indexes are made for PostgreSQL, SQLite and MariaDB, not {dialect}")
    return created


def _create_postgresql(engine: Engine, index: SubstringIndex) -> None:
    # CONCURRENTLY: a product's table keeps taking writes while the index builds (outside a transaction).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        name = _quote(conn, index.name)
        # A build that failed half-way leaves an invalid index of this name; it would stop IF NOT EXISTS.
        conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
        conn.execute(text(f"CREATE INDEX CONCURRENTLY {name} ON {_quote(conn, index.table)} "
                          f"USING gin ({_quote(conn, index.column)} gin_trgm_ops)"))


def _create_sqlite(conn: Connection, index: SubstringIndex) -> None:
    fts, table, column = (_quote(conn, name) for name in (index.name, index.table, index.column))
    content = "'" + index.table.replace("'", "''") + "'"
    for part in _parts(index):
        conn.execute(text(f"DROP {'TABLE' if part == index.name else 'TRIGGER'} IF EXISTS {_quote(conn, part)}"))
    conn.execute(text(f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content={content}, "
                      "content_rowid='rowid', tokenize='trigram')"))
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.rowid, new.{column});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.rowid, old.{column});"
    ai, ad, au = (_quote(conn, part) for part in _parts(index)[1:])
    conn.execute(text(f"CREATE TRIGGER {ai} AFTER INSERT ON {table} BEGIN {insert} END"))
    conn.execute(text(f"CREATE TRIGGER {ad} AFTER DELETE ON {table} BEGIN {delete} END"))
    conn.execute(text(f"CREATE TRIGGER {au} AFTER UPDATE ON {table} WHEN old.rowid IS NOT new.rowid OR "
                      f"old.{column} IS NOT new.{column} BEGIN {delete} {insert} END"))
    conn.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))


# The value's suffixes of three characters or more, each cut to SUFFIX characters, lower-cased, as UTF-8 hex
# (FULLTEXT keeps only letters and digits in a word, at most 84 of them: 10 characters of 4 bytes fit).
MARIADB_SUFFIXES = f"""CREATE FUNCTION IF NOT EXISTS {MARIADB_FUNCTION}(v TEXT CHARACTER SET utf8mb4)
RETURNS MEDIUMTEXT CHARACTER SET ascii DETERMINISTIC NO SQL
BEGIN
  DECLARE s TEXT CHARACTER SET utf8mb4 DEFAULT LOWER(v);
  DECLARE i INT DEFAULT 1;
  DECLARE grams MEDIUMTEXT CHARACTER SET ascii DEFAULT '';
  IF v IS NULL THEN RETURN NULL; END IF;
  WHILE i + 2 <= CHAR_LENGTH(s) DO
    SET grams = CONCAT(grams, ' ', HEX(SUBSTRING(s, i, {SUFFIX})));
    SET i = i + 1;
  END WHILE;
  RETURN grams;
END"""


def _create_mariadb(conn: Connection, index: SubstringIndex) -> None:
    side, table, column, key = (_quote(conn, name) for name in (index.name, index.table, index.column, index.key))
    key_type = conn.execute(text(
        "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table "
        "AND COLUMN_NAME = :key"), {"table": index.table, "key": index.key}).scalar_one()
    conn.execute(text(MARIADB_SUFFIXES))
    for part in _parts(index)[1:]:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {_quote(conn, part)}"))
    conn.execute(text(f"DROP TABLE IF EXISTS {side}"))
    conn.execute(text(f"CREATE TABLE {side} (k {key_type} NOT NULL PRIMARY KEY, suffixes MEDIUMTEXT CHARACTER SET "
                      "ascii) ENGINE=InnoDB"))
    row = f"(NEW.{key}, {MARIADB_FUNCTION}(NEW.{column}))"
    ai, ad, au = (_quote(conn, part) for part in _parts(index)[1:])
    # REPLACE: a row deleted by a foreign key's cascade fires no trigger, and may leave its key behind.
    conn.execute(text(f"CREATE TRIGGER {ai} AFTER INSERT ON {table} FOR EACH ROW "
                      f"REPLACE INTO {side} (k, suffixes) VALUES {row}"))
    conn.execute(text(f"CREATE TRIGGER {ad} AFTER DELETE ON {table} FOR EACH ROW DELETE FROM {side} "
                      f"WHERE k = OLD.{key}"))
    conn.execute(text(f"CREATE TRIGGER {au} AFTER UPDATE ON {table} FOR EACH ROW BEGIN "
                      f"IF NOT (OLD.{column} <=> NEW.{column}) OR NOT (OLD.{key} <=> NEW.{key}) THEN "
                      f"DELETE FROM {side} WHERE k = OLD.{key}; REPLACE INTO {side} (k, suffixes) VALUES {row}; "
                      "END IF; END"))
    # Filled after the triggers exist (a row written meanwhile is already there), indexed once filled.
    conn.execute(text(f"INSERT IGNORE INTO {side} (k, suffixes) SELECT {key}, {MARIADB_FUNCTION}({column}) "
                      f"FROM {table}"))
    conn.execute(text(f"ALTER TABLE {side} ADD FULLTEXT INDEX ft_suffixes (suffixes)"))


# --- searching with them ------------------------------------------------------------------------------------


def _fts(index: SubstringIndex):
    """SQLite's FTS5 table of the index, and its MATCH condition."""
    fts = Table(index.name, MetaData(), Column("rowid", Integer))
    return fts, literal_column(_sqlite_quoted(index.name)).op("MATCH")


def _sqlite_quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def contains(table: Table, index: SubstringIndex, dialect: str, tag: str):
    """The condition "the column holds the text", answered by the index; its parameters come from `params`."""
    column = table.c[index.column]
    if dialect == "postgresql":
        return column.ilike(bindparam(f"{tag}_pattern"), escape=LIKE_ESCAPE)
    if dialect == "sqlite":
        fts, match = _fts(index)
        matching = select(fts.c.rowid).where(match(bindparam(f"{tag}_phrase")))
        return literal_column(f"{_sqlite_quoted(table.name)}.rowid").in_(matching)
    side = Table(index.name, MetaData(), Column("k", table.c[index.key].type), Column("suffixes", Text))
    candidates = select(side.c.k).where(side.c.suffixes.match(bindparam(f"{tag}_terms")))
    return table.c[index.key].in_(candidates) & column.like(bindparam(f"{tag}_pattern"), escape=LIKE_ESCAPE)


def rowid_ordered(table: Table, index: SubstringIndex, tag: str):
    """(FROM, WHERE, ORDER BY) on SQLite when the key is the rowid: FTS5 yields rows in rowid order and stops
    after a page, where `contains` would collect every match first (all the rows, for a common fragment)."""
    fts, match = _fts(index)
    source = fts.join(table, literal_column(f"{_sqlite_quoted(table.name)}.rowid") == fts.c.rowid)
    return source, match(bindparam(f"{tag}_phrase")), fts.c.rowid


def params(q: str, dialect: str, tag: str) -> dict:
    """The parameters of `contains` for the text `q`."""
    if dialect == "sqlite":
        return {f"{tag}_phrase": '"' + q.replace('"', '""') + '"'}
    found = {f"{tag}_pattern": f"%{like_escaped(q)}%"}
    if dialect not in ("postgresql", "sqlite"):
        # The rows holding a suffix that starts with the text (or with its first SUFFIX characters).
        found[f"{tag}_terms"] = q.lower()[:SUFFIX].encode().hex().upper() + "*"
    return found
