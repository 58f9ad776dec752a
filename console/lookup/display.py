"""How record pages show values, from the declarations: personal data masked, money in its units, badges.

The list rows are built here, not in the template: printed through Jinja, every cell of every row cost an
escape, an attribute lookup or a helper call, and the rows were most of a list page's cost. Text from
the database is escaped here; the helpers' Markup (badges, times) is not escaped twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote
from weakref import WeakKeyDictionary

from markupsafe import Markup, escape

from console.formatting import display_zone, human_column, local_time, table_noun
from console.lookup.masking import shown
from console.product.declare import BelongsTo
from console.product.money import format_money
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


class Shown:
    """Shows one record's values: masked unless `revealed`, money in its units, statuses as badges."""

    def __init__(self, reflected: ReflectedRecord, revealed: bool = False):
        self.reflected = reflected
        self.record = reflected.record
        self.revealed = revealed

    def text(self, name: str, row) -> str:
        """A value as plain text (personal data masked, money in units)."""
        value = row._mapping[name]
        if name in self.record.personal:
            return shown(value, self.record.personal[name], self.revealed)
        if name in self.record.money:
            return format_money(value, self.record.money[name].currency_of(row._mapping))
        return "" if value is None else str(value)

    def title(self, row) -> str:
        record = self.record
        values = {name: self.text(name, row) for name in record.title_columns}
        return values[record.title] if "{" not in record.title else record.title.format(**values)

    def badge(self, name: str, value) -> Markup:
        if value is None:
            return Markup("")
        tone = self.record.badges[name].get(value, "light")
        return Markup('<span class="badge badge-{}">{}</span>').format(tone, value)

    def cell(self, column: Column, row, zone=None, parent=None) -> Markup:
        """The value of `column` in `row` as HTML (escaped); `parent`: (url, title) of a BelongsTo's row."""
        value = row._mapping[column.name]
        kind = column.kind
        if kind == "badge":
            return self.badge(column.name, value)
        if kind == "time":
            return local_time(value, zone=zone)
        if kind == "bool":
            return Markup("" if value is None else ("yes" if value else "no"))
        if kind == "parent" and parent is not None:
            return Markup('<a href="{}">{}</a>').format(parent[0], parent[1])
        return escape(self.text(column.name, row))


def record_url(base: str, key) -> str:
    """The record page under its list's URL: one url_for per list, not one per row."""
    return f"{base}{quote(str(key), safe='')}"


def rows_html(reflected: ReflectedRecord, rows, base: str, parents: dict | None = None,
              hide: str | None = None, revealed: bool = False) -> Markup:
    """A table's <tr>s, personal data masked (lists never reveal; a revealed record's page does, for the
    rows it shows). `parents`: via column -> (other base URL, {key: row}, Shown) for links to the rows
    these belong to; `hide`: a column the table leaves out."""
    show, zone, parents = Shown(reflected, revealed), display_zone(), parents or {}
    key, shown_columns = reflected.record.key, [c for c in columns(reflected) if c.name != hide]
    out = []
    for row in rows:
        link = record_url(base, row._mapping[key])
        cells = []
        for column in shown_columns:
            parent = None
            if column.kind == "parent" and column.name in parents:
                other_base, found, other_show = parents[column.name]
                value = row._mapping[column.name]
                if value in found:
                    parent = (record_url(other_base, value), other_show.title(found[value]))
            html = show.cell(column, row, zone, parent)
            if column.kind == "key":
                html = Markup('<a href="{}">{}</a>').format(link, html)
            classes = ("masked " if column.kind == "personal" else "") + ("text-right" if column.numeric else "")
            cells.append(f'<td class="{classes.strip()}">{html}</td>' if classes else f"<td>{html}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return Markup("\n".join(out))
