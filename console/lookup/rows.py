"""Table rows compiled once per record and list shape: one generated function renders a page's <tr>s.

A list page shows 25 rows of about seven cells. Rendered cell by cell (a helper per cell, markupsafe's
escape and a Markup per value, the mask and the money format looked up per cell), the rows cost more
Python calls than the rest of the page. Here each record's columns are turned, once, into the source of
one function that unpacks a row's tuple and writes the row as one f-string: what each column needs
(escaping, masking, money in its units, a badge, a time) is chosen when the function is built, not per
cell, and a value that needs nothing (a number, a known badge, a UTC time) costs no call at all.

Every literal in the generated source comes from `repr()` or is a name bound in its namespace; values
from the database are only ever escaped (or formatted as numbers) into the HTML.
"""
from __future__ import annotations

import string
from datetime import datetime
from threading import Lock
from urllib.parse import quote
from weakref import WeakKeyDictionary

from markupsafe import Markup, escape

from console.formatting import (BIDI_CONTROLS, HTML_ESCAPES, MONTHS, NEEDS_ESCAPING, UTC_ZONE, html_text, local_time,
                                table_noun)
from console.product import mask
from console.product.mask import MASK
from console.product.money import format_money

PLAIN_NUMBERS = (int, float)

_COMPILED: WeakKeyDictionary = WeakKeyDictionary()  # reflected record -> {shape: function}
_TITLES: WeakKeyDictionary = WeakKeyDictionary()  # reflected record -> {revealed: function}
_LOCK = Lock()


def _currency(value) -> str:
    """A currency column's value as a code (Money.currency_of's rule, for a value rather than a row)."""
    return str(value or "").strip().upper()


def _badge_html(tones: dict, value) -> str:
    if value is None:
        return ""
    return f'<span class="badge badge-{tones.get(value, "light")}">{escape(value)}</span>'


def _time_html(value, zone) -> str:
    return str(local_time(value, zone=zone))


def _parent_link(links: dict, parent: tuple | None, value) -> str:
    """The link to the row a BelongsTo column points at, kept in `links` for the page's other rows; the
    value as text when the page has no such row."""
    if parent is not None and value in parent[1]:
        other_base, found, title = parent
        html = f'<a href="{record_url(other_base, value)}">{html_text(title(found[value]))}</a>'
    else:
        html = html_text(str(value))
    links[value] = html
    return html


def _title_lines(record, revealed: bool, at, namespace: dict) -> list[str]:
    """Statements setting `title` to the record's title of a row (Shown.title's text); `at(name)`: the Python
    expression that reads column `name` of the row. The masks of _INLINE_MASKS are written in, as in the
    lists' cells, and the template (plain `{column}`s only: Record.title_columns) becomes a concatenation."""
    lines = []
    for n, name in enumerate(record.title_columns):
        var = at(name)
        if name in record.personal:
            mask = record.personal[name]
            lines.append(f"u{n} = '' if {var} is None else ({var} if {var}.__class__ is str else str({var}))")
            lines.append(f"u{n} = u{n} if u{n}.isascii() else u{n}.translate(_BIDI)")
            inline = _INLINE_MASKS.get(mask)
            if revealed or mask is None:
                lines.append(f"t{n} = u{n}")
            elif inline is not None:
                namespace["_MASK"] = MASK
                lines.extend(inline(n, f"u{n}"))
                lines.append(f"t{n} = m{n}")
            else:
                namespace[f"_M{n}"] = mask
                lines.append(f"t{n} = _M{n}(u{n})")
        elif name in record.money:
            money = record.money[name]
            currency = repr(money.currency) if money.currency else f"_currency({at(money.currency_column)})"
            lines.append(f"t{n} = _money({var}, {currency})")
        else:
            lines.append(f"t{n} = '' if {var} is None else str({var})")
    if "{" not in record.title:
        return [*lines, "title = t0"]
    position = {name: n for n, name in enumerate(record.title_columns)}
    pieces = []
    for literal, field, _spec, _conversion in string.Formatter().parse(record.title):
        if literal:
            pieces.append(repr(literal))
        if field is not None:
            pieces.append(f"t{position[field]}")
    return [*lines, f"title = {' + '.join(pieces)}"]


def _title(reflected, revealed: bool, fields: tuple[str, ...] | None):
    """The compiled title function: of a row read by position (its columns `fields`), or of a mapping."""
    cached = _TITLES.setdefault(reflected, {})
    found = cached.get((revealed, fields))
    if found is None:
        record = reflected.record
        namespace = {"_BIDI": BIDI_CONTROLS, "_money": format_money, "_currency": _currency}
        if fields is None:
            lines = _title_lines(record, revealed, lambda name: f"m[{name!r}]", namespace)
        else:
            lines = _title_lines(record, revealed, lambda name: f"m[{fields.index(name)}]", namespace)
        source = "\n".join(("def title(m):", *(f"    {line}" for line in lines), "    return title"))
        exec(compile(source, f"<title of {record.name}>", "exec"), namespace)
        found = cached[(revealed, fields)] = namespace["title"]
    return found


def title_function(reflected, revealed: bool):
    """The record's title of a row's mapping (Shown.title's text), compiled once per record and reveal."""
    return _title(reflected, revealed, None)


def row_title_function(reflected, revealed: bool, fields: tuple[str, ...] | None):
    """The record's title of a row, read by position when every row has the columns `fields` (None: they
    differ, so by its mapping): a list of orders shows each order's customer by its title."""
    if fields is not None:
        return _title(reflected, revealed, fields)
    by_name = _title(reflected, revealed, None)
    return lambda row: by_name(row._mapping)


def record_url(base: str, key) -> str:
    """The record page under its list's URL: one url_for per list, not one per row."""
    return f"{base}{key:d}" if type(key) is int else f"{base}{quote(str(key), safe='')}"


def _escaped(expression: str, name: str) -> str:
    """An expression for the text `expression` gives, escaped (NEEDS_ESCAPING, in formatting), held in `name`."""
    return f"({name} if _UNSAFE({name} := {expression}) is None else {name}.translate(_ESC))"


def _text(var: str, n: int) -> str:
    """Any value as escaped text ('' for None)."""
    text = _escaped(f"({var} if {var}.__class__ is str else str({var}))", f"e{n}")
    return f'("" if {var} is None else ({var} if {var}.__class__ in _NUMBERS else {text}))'


def _email_mask_source(n: int, var: str) -> list[str]:
    """mask.email's rule as statements setting m{n}: a list's email column saves a call per row."""
    return [f"if {var}:",
            f"    l{n}, _, d{n} = {var}.rpartition('@')",
            f"    if l{n}:",
            f"        h{n}, dot{n}, tld{n} = d{n}.rpartition('.')",
            f"        m{n} = f'{{l{n}[:2] if l{n}[3:] else l{n}[:1]}}{{_MASK}}{{l{n}[-1] if l{n}[4:] else \"\"}}@' + "
            f"(f'{{h{n}[:1]}}{{_MASK}}{{dot{n}}}{{tld{n}}}' if h{n} else f'{{d{n}[:1]}}{{_MASK}}')",
            "    else:",
            f"        m{n} = f'{{{var}[:1]}}{{_MASK}}'",
            "else:",
            f"    m{n} = ''"]


def _name_mask_source(n: int, var: str) -> list[str]:
    """mask.name's rule as a statement setting m{n}."""
    return [f"m{n} = ' '.join([f'{{w[:1]}}{{_MASK}}' for w in {var}.split()]) if {var} else ''"]


# The product package's masks written into the row function (the same rule, checked by the tests against
# the functions themselves); any other mask is called.
_INLINE_MASKS = {mask.email: _email_mask_source, mask.name: _name_mask_source}


def _cell_source(column, var: str, n: int, reflected, revealed: bool, utc: bool, names: dict,
                 namespace: dict, prelude: list[str], body: list[str]) -> str:
    """A Python expression for the HTML of `column`'s cell, its value in local `var`; what it needs is added
    to the namespace, to `prelude` (run once per page) and to `body` (run per row, before it)."""
    record, kind = reflected.record, column.kind
    if kind == "badge":
        tones = record.badges[column.name]
        namespace[f"_B{n}"] = {value: str(_badge_html(tones, value)) for value in tones}
        namespace[f"_T{n}"] = tones
        return f"(_B{n}[{var}] if {var} in _B{n} else _badge(_T{n}, {var}))"
    if kind == "bool":
        return f'("" if {var} is None else ("yes" if {var} else "no"))'
    if kind == "time":
        if not utc:
            return f'("" if {var} is None else _time({var}, zone))'
        # A naive datetime is UTC as stored: written from its ISO text (one call in C, where eight zero-padded
        # numbers took eight format calls); anything else goes the long way.
        body.append(f"i{n} = {var}.isoformat() if {var}.__class__ is _datetime and {var}.tzinfo is None else None")
        return (f"(f'<time datetime=\"{{i{n}[:19]}}Z\" data-local-time>{{{var}.day}} {{_MONTHS[{var}.month - 1]}} "
                f"{{{var}.year}}, {{i{n}[11:16]}} UTC</time>' if i{n} is not None else "
                f"('' if {var} is None else _time({var}, zone)))")
    if kind == "personal":
        mask = record.personal[column.name]
        namespace[f"_M{n}"] = mask
        body.append(f"t{n} = '' if {var} is None else ({var} if {var}.__class__ is str else str({var}))")
        neutral = f"(t{n} if t{n}.isascii() else t{n}.translate(_BIDI))"
        if revealed or mask is None:
            return _escaped(neutral, f"e{n}")
        inline = _INLINE_MASKS.get(mask)
        if inline is None:
            return _escaped(f"_M{n}({neutral})", f"e{n}")
        namespace["_MASK"] = MASK
        body.append(f"u{n} = {neutral}")
        body.extend(inline(n, f"u{n}"))
        return _escaped(f"m{n}", f"e{n}")
    if kind == "money":
        money = record.money[column.name]
        if money.currency:  # a declared code, three capital letters: the amount's text needs no escaping
            return f'("" if {var} is None else _money({var}, {money.currency!r}))'
        # A currency read from the row is escaped once per row, for all its amounts: digits need no escaping.
        currency_var = names[money.currency_column]
        worked_out = f"k{currency_var} = ({currency_var} if {currency_var}.__class__ is str and " \
                     f"{currency_var}.isupper() else _currency({currency_var})).translate(_ESC)"
        if worked_out not in body:
            body.append(worked_out)
        return f'("" if {var} is None else _money({var}, k{currency_var}))'
    if kind == "parent":
        prelude.append(f"_L{n} = {{}}; _P{n} = parents.get({column.name!r})")
        return f'("" if {var} is None else (_L{n}[{var}] if {var} in _L{n} else _parent(_L{n}, _P{n}, {var})))'
    return _text(var, n)


def _compile(reflected, fields: tuple[str, ...], shown_columns, revealed: bool, utc: bool, select: bool):
    names = {name: f"v{number}" for number, name in enumerate(fields)}
    key = names[reflected.record.key]
    namespace = {"_NOUN": str(escape(table_noun(reflected.record.name).lower())), "_ESC": HTML_ESCAPES,
                 "_UNSAFE": NEEDS_ESCAPING, "_BIDI": BIDI_CONTROLS, "_NUMBERS": PLAIN_NUMBERS, "_MONTHS": MONTHS,
                 "_datetime": datetime, "_badge": _badge_html, "_time": _time_html, "_money": format_money,
                 "_currency": _currency, "_parent": _parent_link, "_quote": quote}
    prelude: list[str] = []
    body, cells = [], []
    if select:
        # A checkbox per row for a bulk run (console.lookup.selection), named by the row it selects.
        body.append(f"key_text = f'{{{key}}}' if {key}.__class__ is int else {_escaped(f'str({key})', 'k')}")
        cells.append('<td><input type="checkbox" name="key" value="{key_text}" '
                     'aria-label="Select {_NOUN} {key_text}"></td>')
    for n, column in enumerate(shown_columns):
        classes = " ".join(name for name, wanted in (("masked", column.kind == "personal"),
                                                     ("text-right", column.numeric)) if wanted)
        opening = f'<td class="{classes}">' if classes else "<td>"
        html = _cell_source(column, names[column.name], n, reflected, revealed, utc, names, namespace, prelude, body)
        body.append(f"c{n} = {html}")
        cells.append(f'{opening}<a href="{{link}}">{{c{n}}}</a></td>' if column.kind == "key"
                     else f"{opening}{{c{n}}}</td>")
    source = "\n".join((
        "def render(rows, base, parents, zone):",
        "    out = []",
        "    append = out.append",
        *(f"    {line}" for line in prelude),
        f"    for {', '.join(names.values())}, in rows:",
        f"        link = f'{{base}}{{{key}}}' if {key}.__class__ is int else base + _quote(str({key}), safe='')",
        *(f"        {line}" for line in body),
        f"        append(f'''<tr>{''.join(cells)}</tr>''')",
        "    return out",
    ))
    exec(compile(source, f"<rows of {reflected.record.name}>", "exec"), namespace)
    return namespace["render"]


def renderer(reflected, fields: tuple[str, ...], shown_columns: tuple, revealed: bool, utc: bool,
             select: bool = False):
    """The compiled row function for rows holding `fields`, showing `shown_columns` (after a checkbox when
    `select`)."""
    shape = (fields, tuple(c.name for c in shown_columns), revealed, utc, select)
    compiled = _COMPILED.get(reflected)
    found = compiled.get(shape) if compiled is not None else None
    if found is None:
        with _LOCK:
            found = _COMPILED.setdefault(reflected, {}).get(shape)
            if found is None:
                found = _COMPILED[reflected][shape] = _compile(reflected, fields, shown_columns, revealed, utc, select)
    return found


def render_rows(reflected, rows, base: str, shown_columns: tuple, parents: dict, revealed: bool, zone,
                select: bool = False) -> Markup:
    """The <tr>s of `rows` (SQLAlchemy rows of one statement), joined; `parents`: BelongsTo column ->
    (other list's base URL, {key: row}, title function); `select`: a checkbox per row, named `key`."""
    if not rows:
        return Markup("")
    render = renderer(reflected, rows[0]._fields, shown_columns, revealed, zone is UTC_ZONE, select)
    return Markup("\n".join(render(rows, str(escape(base)), parents, zone)))
