"""How record pages show values, from the declarations: personal data masked, money in its units, badges.

The list rows are built here, not in the template: printed through Jinja, every cell of every row cost an
escape, an attribute lookup or a helper call, and the rows were most of a list page's cost. Text from
the database is escaped here; the helpers' Markup (badges, times) is not escaped twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote, urlencode
from weakref import WeakKeyDictionary

from markupsafe import Markup, escape

from console.formatting import display_zone, html_text, human_column, local_time, table_noun
from console.lookup.masking import shown
from console.lookup.rows import render_rows, row_title_function, title_function
from console.product.declare import BelongsTo
from console.product.money import format_money
from console.product.queries import SearchKeys, search_keys
from console.product.schema import ReflectedRecord, python_type

NUMERIC = (int, float)


def money_label(name: str) -> str:
    """'total_cents' -> 'Total', 'refunded_cents' -> 'Refunded': an amount is shown in its units."""
    for suffix in ("_cents", "_minor"):
        if name.endswith(suffix):
            return human_column(name[:-len(suffix)])
    return human_column(name)


def noun(record) -> str:
    """'customers' -> 'Customer': one row of the record."""
    return table_noun(record.name)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # key, personal, money, badge, bool, time, parent, number, text
    numeric: bool = False


_COLUMNS: WeakKeyDictionary = WeakKeyDictionary()
_BADGES: WeakKeyDictionary = WeakKeyDictionary()


def _column(reflected: ReflectedRecord, name: str, parents: dict[str, str]) -> Column:
    record = reflected.record
    kind = python_type(reflected.table.c[name])
    if name == record.key:
        return Column(name, human_column(name), "key")
    if name in record.personal:
        return Column(name, human_column(name), "personal")
    if name in record.money:
        return Column(name, money_label(name), "money", True)
    if name in record.badges:
        return Column(name, human_column(name), "badge")
    if name in parents:
        return Column(name, parents[name], "parent")
    if kind is bool:
        return Column(name, human_column(name), "bool")
    if kind in (datetime, date):
        return Column(name, human_column(name), "time")
    return Column(name, human_column(name), "number" if kind in NUMERIC else "text", kind in NUMERIC)


def columns(reflected: ReflectedRecord, names: str = "list") -> tuple[Column, ...]:
    """The columns a list ("list") or the detail page ("detail") shows, in order; a money column's currency
    column is left out, as every amount names its currency."""
    cached = _COLUMNS.setdefault(reflected, {})
    if names not in cached:
        record = reflected.record
        currencies = {m.currency_column for m in record.money.values() if m.currency_column}
        parents = {relation.via: table_noun(relation.record) for relation in record.related
                   if isinstance(relation, BelongsTo)}
        chosen = reflected.shown_names if names == "list" else reflected.detail_names
        cached[names] = tuple(_column(reflected, name, parents) for name in chosen if name not in currencies)
    return cached[names]


@dataclass(frozen=True)
class SearchHints:
    placeholder: str
    help: str


_HINTS: WeakKeyDictionary = WeakKeyDictionary()


def search_hints(reflected: ReflectedRecord, *, partial: bool) -> SearchHints | None:
    """The search box's placeholder and help, in words from the declaration, saying what the search of a
    user who may (`partial`) or may not match part of a personal value runs (None: the record has no search)."""
    if not reflected.record.searchable:
        return None
    hints = _HINTS.setdefault(reflected, {})
    if partial not in hints:
        hints[partial] = _hints(search_keys(reflected.record, personal_partial=partial))
    return hints[partial]


def _hints(keys: SearchKeys) -> SearchHints:
    def words(names) -> str:
        return " or ".join(human_column(name).lower() for name in names)

    prefixes = words(keys.prefix)
    placeholder = ", ".join(words([name]) for name in dict.fromkeys(keys.exact + keys.prefix + keys.substring))
    placeholder = placeholder.capitalize() + (f", or the start of {prefixes}" if prefixes else "")
    exact = ", ".join(words([name]) for name in keys.exact) or "no column"
    then = f", then any {prefixes} starting with what you typed" if prefixes else ""
    # A part needs three letters or digits in a row (console.product.search_index.searchable).
    inside = (f", then any {words(keys.substring)} that holds it (at least three letters or digits in a row)"
              if keys.substring else "")
    if not then and not inside:
        return SearchHints(placeholder, f"Finds exact matches on {exact}.")
    return SearchHints(placeholder, f"Exact matches on {exact} come first{then}{inside}.")


class Shown:
    """Shows one record's values: masked unless `revealed`, money in its units, statuses as badges."""

    def __init__(self, reflected: ReflectedRecord, revealed: bool = False):
        self.reflected = reflected
        self.record = reflected.record
        self.revealed = revealed

    def text(self, name: str, values) -> str:
        """A value of `values` (a row's mapping) as plain text (personal data masked, money in units)."""
        value = values[name]
        if name in self.record.personal:
            return shown(value, self.record.personal[name], self.revealed)
        if name in self.record.money:
            return format_money(value, self.record.money[name].currency_of(values))
        return "" if value is None else str(value)

    def title(self, values) -> str:
        """The record's title of `values` (a row's mapping), compiled once (console.lookup.rows)."""
        return title_function(self.reflected, self.revealed)(values)

    def badge(self, name: str, value) -> Markup:
        # Ready-made badges, not Markup.format: this runs for every row of every list.
        badges = _BADGES.setdefault(self.reflected, {})
        found = badges.get((name, value))
        if found is None:
            tone = self.record.badges[name].get(value, "light")
            found = Markup("") if value is None else Markup(f'<span class="badge badge-{tone}">{escape(value)}</span>')
            if value in self.record.badges[name]:  # only declared values: the cache stays small
                badges[(name, value)] = found
        return found

    def cell(self, column: Column, values, zone=None, parent=None) -> str:
        """The value of `column` in `values` (a row's mapping) as HTML (escaped); `parent`: (url, title) of a
        BelongsTo's row."""
        value = values[column.name]
        kind = column.kind
        if kind in ("key", "number", "text"):
            return "" if value is None else html_text(value)
        if kind == "badge":
            return self.badge(column.name, value)
        if kind == "time":
            return local_time(value, zone=zone)
        if kind == "bool":
            return "" if value is None else ("yes" if value else "no")
        if kind == "parent" and parent is not None:
            return f'<a href="{html_text(parent[0])}">{html_text(parent[1])}</a>'
        return html_text(self.text(column.name, values))


def rows_html(reflected: ReflectedRecord, rows, base: str, parents: dict | None = None,
              hide: str | None = None, revealed: bool = False, select: bool = False) -> Markup:
    """A table's <tr>s, personal data masked (lists never reveal; a revealed record's page does, for the
    rows it shows). `parents`: via column -> (other base URL, {key: row}, Shown, the rows' columns or None:
    records.parents) for links to the rows these belong to; `hide`: a column the table leaves out; `select`:
    a checkbox per row. Compiled per record (console.lookup.rows)."""
    titled = {via: (other_base, found, row_title_function(other_show.reflected, other_show.revealed, fields))
              for via, (other_base, found, other_show, fields) in (parents or {}).items()}
    shown_columns = tuple(c for c in columns(reflected) if c.name != hide)
    return render_rows(reflected, rows, base, shown_columns, titled, revealed, display_zone(), select)


_ENCODED: WeakKeyDictionary = WeakKeyDictionary()


def _encoded(reflected: ReflectedRecord, column: str) -> list[tuple[str, Markup, Markup]]:
    """(value, its query string, its label) for a badge column's values, encoded once."""
    by_column = _ENCODED.setdefault(reflected, {})
    if column not in by_column:
        by_column[column] = [(value, escape(urlencode({column: value})), escape(value))
                             for value in reflected.record.badges[column]]
    return by_column[column]


_BARS: WeakKeyDictionary = WeakKeyDictionary()


def filter_bar(reflected: ReflectedRecord, shape, base: dict, here: str, current_sort: str) -> Markup:
    """The list's filter and sort links, as plain query strings: a dozen links per page, and url_for and
    Jinja's urlencode were a fifth of a list page's cost. The declarations' own words are encoded here.
    The unfiltered list's bar, one per sort, is built once."""
    if any(base.get(column) for column in shape.filters):
        return _filter_bar(reflected, shape, base, here, current_sort)
    bars = _BARS.setdefault(reflected, {})
    found = bars.get((here, current_sort))
    if found is None:
        found = _filter_bar(reflected, shape, base, here, current_sort)
        if current_sort in shape.sorts or not current_sort:  # only real sorts: the cache stays small
            bars[(here, current_sort)] = found
    return found


def _filter_bar(reflected: ReflectedRecord, shape, base: dict, here: str, current_sort: str) -> Markup:
    parents = {column: base[column] for column in shape.parent_filters if base.get(column)}
    keep = urlencode(parents)
    keep_query = f"{keep}&" if keep else ""
    parts = []
    for column in shape.badge_filters:
        chosen = base.get(column)
        links = [f'<a href="{here}?{escape(keep)}" class="mr-2{" font-weight-bold" if not chosen else ""}">any</a>']
        for value, encoded, label in _encoded(reflected, column):
            bold = " font-weight-bold" if chosen == value else ""
            links.append(f'<a href="{here}?{escape(keep_query)}{encoded}" class="mr-2{bold}">{label}</a>')
        parts.append(f'<div class="mb-2 small"><span class="text-muted mr-1">{escape(human_column(column))}:</span>'
                     f'{"".join(links)}</div>')
    filtered = {column: base[column] for column in shape.filters if base.get(column)}
    allowed = [param for param in shape.sorts if all(param in shape.filters[c] for c in filtered)]
    if len(allowed) > 1:
        sort_query = escape(f"{urlencode(filtered)}&" if filtered else "")
        links = [f'<a href="{here}?{sort_query}sort={quote(param)}" class="mr-2'
                 f'{" font-weight-bold" if current_sort == param else ""}">{escape(shape.sorts[param].label)}</a>'
                 for param in allowed]
        parts.append(f'<div class="mb-3 small"><span class="text-muted mr-1">Sort:</span>{" ".join(links)}</div>')
    return Markup("\n".join(parts))
