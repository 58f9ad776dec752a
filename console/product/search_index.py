"""The indexes behind substring search, one per declared `substring` column, and the conditions that use them.

- PostgreSQL: a `pg_trgm` GIN index (`gin_trgm_ops`), built CONCURRENTLY; searched with ILIKE '%text%'.
- SQLite: an FTS5 table with the `trigram` tokenizer over the column (external content, no copy of
  the text), kept in step by three triggers; searched with MATCH on the text as one phrase.
- MariaDB has no ngram parser (MySQL's is a plugin MariaDB lacks; Mroonga is an extra storage
  engine). A text is inside a value when it starts one of the value's suffixes, so a side table holds
  one row per suffix (cut to SUFFIX characters, in the column's collation) and the row's key, under a
  B-tree primary key (suffix, key), kept in step by triggers. A search reads the range of suffixes
  starting with the text (`suffix LIKE 'text%'`), then checks LIKE '%text%' on those rows only.
  (Trigrams as FULLTEXT words were tried first: every row shares common ones, and intersecting them
  took seconds; then each row's suffixes as hex FULLTEXT words: a rare fragment still took 35 ms at
  200,000 customers, where the B-tree range takes about one.)

All three match case-insensitively. A text needs three letters or digits in a row: pg_trgm
takes its trigrams from runs of letters and digits, and a shorter text would find everything.

On PostgreSQL the index is asked only about the text's rarer words (`narrowed`), and the whole text is
checked on the rows it hands over: a GIN scan reads every trigram's list of rows, and a word such as
`example` in `clara.lopez.499499@example.net` is in every row (3,859 buffers and 112 ms at 1M customers,
where `%clara%lopez%499499%` needs a few). Which words are rare is judged from the values ANALYZE sampled
(pg_stats), read when the records are reflected.
SQLite's FTS5 likewise reads the list of rows of every trigram of a phrase (`@example.net`'s hold every row:
6.4 ms of CPU for a whole email at 1M customers, 0.7 for `"499499"`), so it is asked about the rarer words
(each a phrase of its own), judged from values read at evenly spaced rowids when the records are reflected,
and the whole text is checked on the rows it finds (`params`, `_whole_text`).
The console creates these indexes only for a package that owns its schema (the demo shop, at
`init`) or when asked (`support-console product index`); `product check` names the missing ones.
"""
from __future__ import annotations

import hashlib
import operator
import re
from dataclasses import dataclass, field
from itertools import compress, repeat

from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, func, literal, literal_column, select, text
from sqlalchemy.engine import Connection, Engine

from console.product.loading import Product

LIKE_ESCAPE = "/"
# Three letters or digits in a row: what a trigram index can use on every database.
SEARCHABLE_RUN = re.compile(r"[^\W_]{3}")
WORD = re.compile(r"[^\W_]+")  # pg_trgm's words: runs of letters and digits
COMMON = 0.05  # a word in more than this share of the rows makes the trigram scan read long lists for little
RARE = 0.01  # words estimated to hold no more than this share of the rows together narrow enough (10,000 of 1M)
# The letters whose lower case or case folding holds an ASCII character (ß, İ, ı, ŉ, ſ, ǰ, ẖ-ẚ, ẞ, the Kelvin
# sign, the ligatures ﬀ-ﬆ), all in the Basic Multilingual Plane: more than FTS5 folds into ASCII (a test derives
# them from Python's Unicode tables); a superset only sends a few more values to the whole phrase.
FOLDING_INTO_ASCII = ("\u00df\u0130\u0131\u0149\u017f\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u1e9e\u212a"
                      "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06")
SQLITE_SAMPLE = 300  # values read at evenly spaced rowids: about as many as ANALYZE's sample on PostgreSQL
SUFFIX = 12  # characters of each suffix MariaDB's side table keeps; LIKE checks the rest of a longer text
# The function an earlier form of MariaDB's index used (suffixes as FULLTEXT words); dropped when the index is remade.
OLD_MARIADB_FUNCTION = "sc_suffixes"
# The side table's comment once its fill has ended (MariaDB): see _create_mariadb.
BUILT = "sc substring index, filled"


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


@dataclass(frozen=True)
class Sample:
    """A column's values as PostgreSQL's ANALYZE sampled them: its most common values with their shares of
    the rows, and the bounds of its histogram (the rest of the rows, in equal parts); lowercased."""

    common: tuple[tuple[str, float], ...] = ()
    bounds: tuple[str, ...] = field(default=())

    def share(self, word: str) -> float:
        """The estimated share of rows holding `word` (lowercase), as PostgreSQL's own LIKE estimate works."""
        # map() over operator.contains: no Python frame per sampled value (a search asks each of its words).
        values, freqs = zip(*self.common) if self.common else ((), ())
        in_common = sum(compress(freqs, map(operator.contains, values, repeat(word))))
        rest = 1.0 - sum(freqs)
        in_bounds = sum(map(operator.contains, self.bounds, repeat(word))) / len(self.bounds) if self.bounds else 0.0
        return in_common + rest * in_bounds

    def __bool__(self) -> bool:
        return bool(self.common or self.bounds)


def column_samples(conn: Connection, table: str, columns: tuple[str, ...]) -> dict[str, Sample]:
    """Each column's Sample: PostgreSQL's from pg_stats (none for a table not analyzed yet), SQLite's from the
    values at SQLITE_SAMPLE evenly spaced rowids (a lookup each, whatever the table's size)."""
    if not columns:
        return {}
    if conn.dialect.name == "sqlite":
        return _sqlite_samples(conn, table, columns)
    if conn.dialect.name != "postgresql":
        return {}
    rows = conn.execute(text(
        "SELECT attname, most_common_vals::text::text[], most_common_freqs, histogram_bounds::text::text[] "
        "FROM pg_stats WHERE schemaname = current_schema() AND tablename = :table AND attname IN :columns")
        .bindparams(bindparam("columns", expanding=True)), {"table": table, "columns": list(columns)}).all()
    return {name: Sample(tuple((value.lower(), freq) for value, freq in zip(common or (), freqs or ())),
                         tuple(value.lower() for value in bounds or ()))
            for name, common, freqs, bounds in rows}


def _sqlite_samples(conn: Connection, table: str, columns: tuple[str, ...]) -> dict[str, Sample]:
    quoted = _quote(conn, table)
    low, high = conn.execute(text(f"SELECT MIN(rowid), MAX(rowid) FROM {quoted}")).one()
    if low is None:
        return {}
    step = max((high - low) // SQLITE_SAMPLE, 1)
    names = ", ".join(_quote(conn, column) for column in columns)
    rows = conn.execute(text(
        f"WITH RECURSIVE spaced(n) AS (SELECT :low UNION ALL SELECT n + :step FROM spaced WHERE n + :step <= :high) "
        f"SELECT {names} FROM {quoted} WHERE rowid IN (SELECT n FROM spaced)"),
        {"low": low, "high": high, "step": step}).all()
    return {column: Sample(bounds=tuple(row[number].lower() for row in rows if row[number] is not None))
            for number, column in enumerate(columns)}


def rarer_words(q: str, sample: Sample | None, shortest: int = 1) -> list[str] | None:
    """The words of `q` (of `shortest` characters or more) an index is asked about: its rarest by the sample,
    in q's order, added rarest first until they are estimated to hold RARE of the rows (`clara`, `499499` for
    `clara.lopez.499499@example.net`: every value holding q holds them); None (q itself) when nothing is
    known or every word is needed. A word the sample never saw counts as half a histogram bucket, not as
    absent."""
    words = WORD.findall(q)
    if not sample or len(words) < 2:
        return None
    unseen = 1 / (2 * max(len(sample.bounds), 1))
    shares = {word: max(sample.share(word.lower()), unseen) for word in words if len(word) >= shortest}
    kept, estimate = set(), 1.0
    for word in sorted(shares, key=lambda word: (shares[word], -len(word))):
        if estimate <= RARE or (kept and shares[word] > COMMON):
            break
        kept.add(word)
        estimate *= shares[word]  # as if independent: enough to tell a rare pair from a common word
    if not kept or set(words) <= kept:
        return None
    return [word for word in words if word in kept]


def narrowed(q: str, sample: Sample | None) -> str:
    """The LIKE pattern PostgreSQL's trigram index is asked with for `q`: its rarer words (`%clara%499499%`),
    or q itself."""
    words = rarer_words(q, sample)
    return f"%{like_escaped(q)}%" if words is None else "%" + "%".join(like_escaped(word) for word in words) + "%"


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
        ranged = conn.execute(text(schema.format("STATISTICS", "TABLE_SCHEMA", "TABLE_NAME = :side AND "
                                                 "INDEX_NAME = 'PRIMARY' AND SEQ_IN_INDEX = 1 AND "
                                                 "COLUMN_NAME = 'suffix'")), {"side": index.name}).scalar()
        filled = conn.execute(text(schema.format("TABLES", "TABLE_SCHEMA", "TABLE_NAME = :side AND "
                                                 "TABLE_COMMENT = :built")), {"side": index.name, "built": BUILT}).scalar()
        return triggers == 3 and ranged == 1 and filled == 1
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
            created.append(f"{index.record}.{index.column}: suffix table {index.name} on {index.table}, "
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


def _create_mariadb(conn: Connection, index: SubstringIndex) -> None:
    side, table, column, key = (_quote(conn, name) for name in (index.name, index.table, index.column, index.key))
    described = conn.execute(text(
        "SELECT COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
        "DATABASE() AND TABLE_NAME = :table AND COLUMN_NAME IN (:key, :column)"),
        {"table": index.table, "key": index.key, "column": index.column}).all()
    types = {row[0]: row for row in described}
    key_type = types[index.key][1]
    # The column's own collation: the range finds what the column's LIKE '%text%' matches, case included.
    collation = types[index.column][2]
    collate = f" COLLATE {collation}" if collation else ""
    for part in _parts(index)[1:]:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {_quote(conn, part)}"))
    conn.execute(text(f"DROP TABLE IF EXISTS {side}"))
    conn.execute(text(f"CREATE TABLE {side} (suffix VARCHAR({SUFFIX}){collate} NOT NULL, k {key_type} NOT NULL, "
                      "PRIMARY KEY (suffix, k)) ENGINE=InnoDB"))
    ai, ad, au = (_quote(conn, part) for part in _parts(index)[1:])
    # IGNORE: a value may repeat a suffix.
    insert = _each_suffix(f"NEW.{column}", f"INSERT IGNORE INTO {side} (suffix, k) VALUES "
                                          f"(SUBSTRING(NEW.{column}, i, {SUFFIX}), NEW.{key})")
    # By (suffix, key): the primary key, no second index. A row removed by a foreign key's cascade fires
    # no trigger and leaves its suffixes behind: a search checks the row itself, so they cost only space.
    delete = _each_suffix(f"OLD.{column}", f"DELETE FROM {side} WHERE suffix = SUBSTRING(OLD.{column}, i, {SUFFIX}) "
                                          f"AND k = OLD.{key}")
    conn.execute(text(f"CREATE TRIGGER {ai} AFTER INSERT ON {table} FOR EACH ROW BEGIN DECLARE i INT; {insert} END"))
    conn.execute(text(f"CREATE TRIGGER {ad} AFTER DELETE ON {table} FOR EACH ROW BEGIN DECLARE i INT; {delete} END"))
    conn.execute(text(f"CREATE TRIGGER {au} AFTER UPDATE ON {table} FOR EACH ROW BEGIN DECLARE i INT; "
                      f"IF NOT (OLD.{column} <=> NEW.{column}) OR NOT (OLD.{key} <=> NEW.{key}) THEN "
                      f"{delete} {insert} END IF; END"))
    # Filled after the triggers exist (a row written meanwhile is already there): one pass per suffix start.
    longest = conn.execute(text(f"SELECT MAX(CHAR_LENGTH({column})) FROM {table}")).scalar() or 0
    for start in range(1, longest - 1):
        conn.execute(text(f"INSERT IGNORE INTO {side} (suffix, k) SELECT SUBSTRING({column}, {start}, "
                          f"{SUFFIX}), {key} FROM {table} WHERE CHAR_LENGTH({column}) >= {start + 2}"))
    still_used = conn.execute(text("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = "
                                   "DATABASE() AND ACTION_STATEMENT LIKE :called"),
                              {"called": f"%{OLD_MARIADB_FUNCTION}(%"}).scalar()
    if not still_used:
        conn.execute(text(f"DROP FUNCTION IF EXISTS {OLD_MARIADB_FUNCTION}"))
    # The table and its triggers are DDL, committed before the fill: only this mark says the fill ended, so a
    # build stopped half-way is missing (and made again), never an index that silently finds nothing.
    conn.execute(text(f"ALTER TABLE {side} COMMENT = '{BUILT}'"))


def _each_suffix(value: str, statement: str) -> str:
    """A trigger's loop running `statement` for each suffix start `i` of `value` with three characters or more."""
    return f"SET i = 1; WHILE i + 2 <= CHAR_LENGTH({value}) DO {statement}; SET i = i + 1; END WHILE;"


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
        # The index takes the narrowed pattern; `column || ''` is no indexed expression, so the whole text is
        # checked on the rows the index found, not added to the index's scan.
        return (column.ilike(bindparam(f"{tag}_narrow"), escape=LIKE_ESCAPE)
                & column.concat(literal_column("''")).ilike(bindparam(f"{tag}_pattern"), escape=LIKE_ESCAPE))
    if dialect == "sqlite":
        fts, match = _fts(index)
        matching = select(fts.c.rowid).where(match(bindparam(f"{tag}_phrase")))
        return literal_column(f"{_sqlite_quoted(table.name)}.rowid").in_(matching) & _whole_text(table, index, tag)
    side = _side(index, table.c[index.key].type)
    candidates = select(side.c.k).where(side.c.suffix.like(bindparam(f"{tag}_start"), escape=LIKE_ESCAPE))
    return table.c[index.key].in_(candidates) & column.like(bindparam(f"{tag}_pattern"), escape=LIKE_ESCAPE)


def _side(index: SubstringIndex, key_type=Integer) -> Table:
    return Table(index.name, MetaData(), Column("suffix", Text), Column("k", key_type))


def candidates(index: SubstringIndex, tag: str, bound: int):
    """MariaDB: how many suffixes start with the text of `params(q, dialect, tag)`, counted up to bound + 1 (a range
    read of the side table's primary key), as a scalar subquery."""
    side = _side(index)
    within = select(literal_column("1")).where(side.c.suffix.like(bindparam(f"{tag}_start"), escape=LIKE_ESCAPE))
    return select(func.count()).select_from(within.limit(bound + 1).subquery()).scalar_subquery()


def rowid_ordered(table: Table, index: SubstringIndex, tag: str):
    """(FROM, WHERE, ORDER BY) on SQLite when the key is the rowid: FTS5 yields rows in rowid order and stops
    after a page, where `contains` would collect every match first (all the rows, for a common fragment)."""
    fts, match = _fts(index)
    source = fts.join(table, literal_column(f"{_sqlite_quoted(table.name)}.rowid") == fts.c.rowid)
    return source, match(bindparam(f"{tag}_phrase")) & _whole_text(table, index, tag), fts.c.rowid


def _whole_text(table: Table, index: SubstringIndex, tag: str):
    """SQLite: a row FTS5 found by the text's rarer words (`{tag}_phrase`) holds the whole text. lower() folds
    ASCII letters only, FTS5 every letter (LIKE is case-sensitive here: console.db): a text is narrowed only
    when it is ASCII (`params`; otherwise `{tag}_lowered` is '', which every value holds), and a value holding
    a letter FTS5 may fold into ASCII (the Kelvin sign, the long s) is asked of FTS5 with the whole phrase,
    which reads every trigram's rows once for the statement, and only then."""
    fts, match = _fts(index)
    column = table.c[index.column]
    whole = literal_column(f"{_sqlite_quoted(table.name)}.rowid").in_(
        select(fts.c.rowid).where(match(bindparam(f"{tag}_whole"))).correlate(None))  # its own FTS5 table
    return (func.instr(func.lower(column), bindparam(f"{tag}_lowered")) > 0) | (
        column.op("GLOB", is_comparison=True)(literal(f"*[{FOLDING_INTO_ASCII}]*")) & whole)


def _phrase(text_: str) -> str:
    """FTS5's phrase for the text: the trigrams in a row."""
    return '"' + text_.replace('"', '""') + '"'


def params(q: str, dialect: str, tag: str, sample: Sample | None = None) -> dict:
    """The parameters of `contains` for the text `q` (on PostgreSQL and SQLite, narrowed by the column's sample)."""
    if dialect == "sqlite":
        whole = _phrase(q)
        words = rarer_words(q, sample, shortest=3) if q.isascii() else None  # a trigram needs three characters
        if words is None:
            return {f"{tag}_phrase": whole, f"{tag}_whole": whole, f"{tag}_lowered": ""}
        return {f"{tag}_phrase": " ".join(_phrase(word) for word in dict.fromkeys(words)), f"{tag}_whole": whole,
                f"{tag}_lowered": q.lower()}
    found = {f"{tag}_pattern": f"%{like_escaped(q)}%"}
    if dialect == "postgresql":
        found[f"{tag}_narrow"] = narrowed(q, sample)
    if dialect not in ("postgresql", "sqlite"):
        # The suffixes that start with the text (or with its first SUFFIX characters: LIKE checks the rest).
        found[f"{tag}_start"] = like_escaped(q[:SUFFIX]) + "%"
    return found
