"""A record's list page: every row, a filter, or a search, keyset-paged over what an index serves.

Sorts are the record's declared `sort` columns (each with the key as tie-break) and its key. A filter
is offered on a badge column (status) or on the column a parent record's HasMany points through
(an order's customer_id), and only when an index leads with that column; it combines with a sort only
when an index holds both, in that order. Any other combination is narrowed with a notice rather than
turned into a table scan. Searches run the product's steps (console.product.queries.phases: exact keys,
then prefixes, then substrings, each less the rows the steps before it found), each paged on the order its
index yields; a page may span two steps, both ways. On PostgreSQL a page's steps are one statement
(console.lookup.united); elsewhere each step the page reaches is its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from console.product.declare import HasMany
from console.product.queries import Phase, QueryInputError, check_query, phases
from console.product.schema import ProductSchema, ReflectedRecord, python_type
from console.lookup import united
from console.lookup.paging import PAGE_SIZE, BadCursor, Page, SortOrder, dialect_name, keyset_page, prebuilt


class LookupInputError(ValueError):
    """A parameter of the list is not valid; `field` names it."""

    def __init__(self, field_name: str, message: str, status: int = 400):
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.status = status

    @property
    def in_words(self) -> str:
        """The message as a page shows it beside its form: "Search: at most ...", never the query's "q: ..."."""
        name, prefix = self.field, f"{self.field}: "
        if not self.message.startswith(prefix):
            return self.message
        label = "Search" if name == "q" else column_label(name).capitalize()
        return f"{label}: {self.message[len(prefix):]}"


def column_label(name: str) -> str:
    """'created_at' -> 'created', 'total_cents' -> 'total': the column as a sort's label names it."""
    for suffix in ("_at", "_cents", "_minor", "_on"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    return name.replace("_", " ")


def _sort_labels(reflected: ReflectedRecord, name: str) -> tuple[str, str]:
    """(descending, ascending) labels of a sort on this column."""
    if name == reflected.record.key:
        return "Highest number first", "Lowest number first"
    kind, label = python_type(reflected.table.c[name]), column_label(name)
    if kind in (datetime, date):
        dated = [n for n in reflected.record.sort if python_type(reflected.table.c[n]) in (datetime, date)]
        extra = f" ({label})" if dated and dated[0] != name else ""
        return f"Newest first{extra}", f"Oldest first{extra}"
    if kind is str:
        return f"{label.capitalize()} Z to A", f"{label.capitalize()} A to Z"
    return f"Largest {label} first", f"Smallest {label} first"


@dataclass
class Shape:
    """What one record's list can do, worked out once from its declaration and its table's indexes."""

    sorts: dict[str, SortOrder]
    default: str
    filters: dict[str, tuple[str, ...]]  # filter column -> the sort params an index serves with it
    badge_filters: tuple[str, ...]
    parent_filters: dict[str, str]  # filter column -> the parent record's name


# Per reflected record (one per app): a token that is never reused, unlike id(), for the statement cache's
# keys (paging.prebuilt keeps its statements for good), and the list's shape.
_TOKENS: WeakKeyDictionary = WeakKeyDictionary()
_SHAPES: WeakKeyDictionary = WeakKeyDictionary()
_COUNTER = count()


def token(reflected: ReflectedRecord) -> int:
    found = _TOKENS.get(reflected)
    if found is None:
        found = _TOKENS.setdefault(reflected, next(_COUNTER))
    return found


def _index_heads(reflected: ReflectedRecord) -> list[list[str]]:
    heads = [[c.name for c in reflected.table.primary_key.columns]]
    heads += [[c.name for c in index.columns if c is not None] for index in reflected.table.indexes]
    return [head for head in heads if head]


def shape(schema: ProductSchema, reflected: ReflectedRecord) -> Shape:
    found = _SHAPES.get(reflected)
    if found is None:
        found = _SHAPES.setdefault(reflected, _build_shape(schema, reflected))
    return found


def _build_shape(schema: ProductSchema, reflected: ReflectedRecord) -> Shape:
    record, table = reflected.record, reflected.table
    key = table.c[record.key]
    sorts: dict[str, SortOrder] = {}
    for name in (*record.sort, record.key):
        columns = (key,) if name == record.key else (table.c[name], key)
        down, up = _sort_labels(reflected, name)
        for order in (SortOrder(name, down, columns, True), SortOrder(name, up, columns, False)):
            sorts[order.param] = order
    heads = _index_heads(reflected)
    led = {head[0] for head in heads}
    parents = {relation.via: other.name for other in schema.product.records.values()
               for relation in other.related if isinstance(relation, HasMany) and relation.record == record.name}
    candidates = [c for c in record.badges if c in led] + [c for c in parents if c in led and c not in record.badges]
    filters = {}
    for column in candidates:
        served = {head[1] for head in heads if len(head) > 1 and head[0] == column}
        filters[column] = tuple(param for param, order in sorts.items() if order.key in served)
    return Shape(sorts=sorts, default=f"-{record.sort[0] if record.sort else record.key}", filters=filters,
                 badge_filters=tuple(c for c in filters if c in record.badges),
                 parent_filters={c: parents[c] for c in filters if c not in record.badges})


@dataclass
class Listing:
    """A list page's rows plus what the user should be told about it."""

    page: Page
    notices: list[str] = field(default_factory=list)
    not_found: str | None = None
    # On page 1 of a filter or a search: (rows on the page, whether more follow), read off the page itself;
    # counting further would read every match (console.lookup.paging: nothing is counted past a page).
    count: tuple[int, bool] | None = None
    sort: str = ""
    # A search's rows on this page, each with the step that found it (what its audit names).
    found: list = field(default_factory=list)


def _listed(reflected: ReflectedRecord) -> list:
    return [reflected.table.c[name] for name in reflected.list_names]


def _filtered(reflected: ReflectedRecord, names: tuple[str, ...]):
    """The list's SELECT filtered on each column of `names` (= a bound parameter of its name), built once."""
    table = reflected.table
    return prebuilt(("records", token(reflected), "filter", names), lambda: select(*_listed(reflected)).where(
        *(table.c[name] == bindparam(f"f_{name}", type_=table.c[name].type) for name in names)))


def _filter_value(reflected: ReflectedRecord, column: str, raw: str):
    kind = python_type(reflected.table.c[column])
    if kind is int:
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 2**63 - 1:  # "²" is a digit too
            raise LookupInputError(column, f"{column}: give a number (digits only).")
        return int(raw)
    if column in reflected.record.badges and raw not in reflected.record.badges[column]:
        choices = ", ".join(reflected.record.badges[column])
        raise LookupInputError(column, f"Unknown {column} {raw!r}; choose one of: {choices}.")
    return raw


def browse(conn: Connection, schema: ProductSchema, reflected: ReflectedRecord, *, filters: dict[str, str],
           sort: str | None, direction: str = "first", cursor: str | None = None, size: int = PAGE_SIZE) -> Listing:
    """One page of the record's rows, filtered by `filters` (column -> raw value), in an indexed order."""
    lists = shape(schema, reflected)
    unknown = [column for column in filters if column not in lists.filters]
    if unknown:
        raise LookupInputError(unknown[0], f"{unknown[0]}: this list cannot be filtered on it.")
    params = {f"f_{column}": _filter_value(reflected, column, raw) for column, raw in filters.items()}
    param = sort or lists.default
    if param not in lists.sorts:
        raise LookupInputError("sort", f"Unknown sort {param!r}; choose one of: {', '.join(lists.sorts)}.")
    notices = []
    allowed = set(lists.sorts)
    for column in filters:
        allowed &= set(lists.filters[column])
    if filters and param not in allowed:
        fallback = lists.default if lists.default in allowed else next(iter(sorted(allowed)), f"-{reflected.record.key}")
        if sort:
            notices.append(f"“{lists.sorts[param].label}” cannot be combined with this filter, so the list is "
                           f"sorted “{lists.sorts[fallback].label}”.")
        param = fallback
    statement = _filtered(reflected, tuple(sorted(filters)))
    page = keyset_page(conn, statement, lists.sorts[param], direction=direction, cursor=cursor, size=size,
                       params=params)
    listing = Listing(page, notices, sort=param)
    if filters and direction == "first":
        listing.count = (len(page.rows), page.has_next) if page.rows else None
        if not page.rows:
            listing.not_found = f"No {reflected.record.label.lower()} match this filter."
    return listing


# Searches --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One step of a search as the pages walk it: its statement (no order), its order and its values."""

    phase: Phase
    statement: object
    sort: SortOrder
    params: dict
    # MariaDB's substring step: a bounded read in key order, tried first (ReflectedRecord.steps_statements).
    probe: object = None


def _steps(conn: Connection, reflected: ReflectedRecord, q: str, partial: bool = True) -> list[Step]:
    """The product's steps for `q` (console.product.queries.phases), each paged here both ways on the order
    its index yields rows in; a step binds the values of the steps before it, whose rows it leaves out."""
    found = phases(reflected, q, personal_partial=partial)
    signature = tuple((phase.kind, phase.column) for phase in found)
    record, steps, params = reflected.record, [], {}
    for number, phase in enumerate(found):
        reflected.require_index(conn, phase.kind, phase.column)
        params = {**params, **phase.params}
        statement, order = reflected.unordered(signature, number)
        statement = prebuilt(("records", token(reflected), "phase", signature, number), lambda s=statement: s)
        if len(order) > 1 and order[0].key in record.exact:  # a unique text key needs no tie-break
            order = order[:1]
        # A row holds the table's columns: an order over another table's (SQLite's FTS5 rowid, which is the
        # key) reads the key.
        names = tuple(c.key if c.table is reflected.table else record.key for c in order)
        probe = reflected.unordered_probe(signature, number)
        if probe is not None:
            probe = prebuilt(("records", token(reflected), "probe", signature, number), lambda s=probe: s)
        steps.append(Step(phase, statement, SortOrder(f"{phase.kind}-{phase.column}", "", tuple(order), False,
                                                      byte_order=phase.kind == "prefix", names=names), params,
                          probe))
    return steps


def _split(cursor: str | None, steps: list[Step]) -> tuple[int, str | None]:
    if cursor is None:
        return 0, None
    number, _, rest = cursor.partition(".")
    if not (number.isascii() and number.isdigit()) or int(number) >= len(steps) or not rest:
        raise BadCursor("not a cursor of this search")
    return int(number), rest


def _walk(conn, reflected, steps, start: int, direction: str, cursor: str | None, size: int):
    """Rows from `start` on in `direction` ("first"/"after" forwards, "last"/"before" backwards), across
    steps, until one more than `size` are found: [(step number, row)], in the walk's order."""
    key, found, seen = reflected.record.key, [], set()
    forwards = direction in ("first", "after")
    crowded = None
    number, step_direction = start, direction
    while 0 <= number < len(steps) and len(found) <= size:
        step = steps[number]
        page = None
        if step.probe is not None and crowded is None:
            crowded = reflected.crowded(conn, tuple((s.phase.kind, s.phase.column) for s in steps), steps[-1].params)
        if step.probe is not None and number in crowded:
            page = keyset_page(conn, step.probe, step.sort, direction=step_direction, cursor=cursor, size=size,
                               params=step.params)
            if not (page.has_next if forwards else page.has_prev):
                page = None  # the bounded read held less than a page: the index answers
        if page is None:
            page = keyset_page(conn, step.statement, step.sort, direction=step_direction, cursor=cursor, size=size,
                               params=step.params)
        rows = page.rows if forwards else list(reversed(page.rows))
        for row in rows:
            if row._mapping[key] not in seen:
                seen.add(row._mapping[key])
                found.append((number, row))
        if len(found) >= size and (page.has_next if forwards else page.has_prev):
            found.append(None)  # more remain in this step: a marker, never shown
            break
        number += 1 if forwards else -1
        step_direction, cursor = ("first" if forwards else "last"), None
    return found


def search(conn: Connection, reflected: ReflectedRecord, q: str, *, direction: str = "first",
           cursor: str | None = None, size: int = PAGE_SIZE, partial: bool = True,
           exact_found_nothing: bool = False) -> Listing:
    """One page of a search: the product's steps in order (exact keys, prefixes, substrings), both ways.

    Without `partial`, no step matches part of a personal value (console.product.searches decides who
    may, and audits what was found: console.lookup.searches asks it). With `exact_found_nothing` (page 1
    after exact_matches found no row), the walk starts after the exact steps instead of asking them again.
    """
    record = reflected.record
    if not record.searchable:
        raise LookupInputError("q", f"{record.label} cannot be searched; list them without a search.")
    _checked(q)
    steps = _steps(conn, reflected, q, partial)
    listing = Listing(Page([], None))
    if not steps:
        listing.not_found = f"No {record.label.lower()} can match “{q}”."
        return listing
    start, inner = _split(cursor, steps)
    if direction == "last":
        start = len(steps) - 1
    if exact_found_nothing:
        if direction != "first":
            raise ValueError("exact_found_nothing is for page 1 of a search")
        start = _exact_count(steps)
    forwards = direction in ("first", "after")
    if start == len(steps):
        found = []
    elif dialect_name(conn) in united.DIALECTS:
        shape = ("records", token(reflected), "steps", tuple((s.phase.kind, s.phase.column) for s in steps))
        found = united.walk(conn, shape, steps, start, direction, inner, size)
    else:
        found = _walk(conn, reflected, steps, start, direction, inner, size)
    more = len(found) > size
    shown = found[:size] if forwards else list(reversed(found[:size]))

    def encode(entry) -> str:
        number, row = entry
        return f"{number}.{steps[number].sort.encode(row)}"

    page = Page([row for _number, row in shown], steps[0].sort)
    if shown:
        page.has_prev = more if not forwards else direction == "after"
        page.next_cursor = encode(shown[-1]) if (more if forwards else direction == "before") else None
        page.prev_cursor = encode(shown[0]) if page.has_prev else None
    listing.page = page
    listing.found = [(steps[number].phase, row) for number, row in shown]
    if direction == "first" and shown:
        # The page is the count: how many more match is never counted, as that reads every match (the
        # substring steps' counts read each row holding the text only to leave out those a prefix found).
        listing.count = (len(shown), more)
    if not page.rows and direction == "first":
        listing.not_found = f"No {record.label.lower()} match “{q}”."
    return listing


def _checked(q: str) -> None:
    try:
        check_query(q)
    except QueryInputError as exc:
        raise LookupInputError(exc.field, exc.message) from None


def _exact_count(steps: list[Step]) -> int:
    """How many of the steps are exact keys: they come first (console.product.queries.phases)."""
    return next((number for number, step in enumerate(steps) if step.phase.kind != "exact"), len(steps))


def exact_matches(conn: Connection, reflected: ReflectedRecord, q: str, limit: int = 2) -> list[tuple]:
    """(phase, row) for rows an exact key finds for `q`, at most `limit`: what "lands on the thing". The exact
    steps are walked as a search's are: one statement on PostgreSQL, each step less the rows before it."""
    _checked(q)
    steps = _steps(conn, reflected, q, partial=False)
    exact = steps[:_exact_count(steps)]
    if not exact:
        return []
    if dialect_name(conn) in united.DIALECTS:
        shape = ("records", token(reflected), "exact", tuple((s.phase.kind, s.phase.column) for s in exact))
        found = united.walk(conn, shape, exact, 0, "first", None, limit)
    else:
        found = _walk(conn, reflected, exact, 0, "first", None, limit)
    return [(exact[number].phase, row) for number, row in filter(None, found)][:limit]
