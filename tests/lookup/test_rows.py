"""The compiled list rows (console.lookup.rows) show exactly what the one-cell rule (Shown.cell) shows."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import Boolean, Column, Date, DateTime, Integer, MetaData, Numeric, String, Table, create_engine, select

from console.formatting import UTC_ZONE
from console.lookup.display import Shown, columns
from console.lookup.rows import record_url, render_rows, row_title_function, title_function
from console.product import Money, Record, mask
from console.product.schema import ReflectedRecord

VALUES = [
    dict(code="w-1", owner="Anna Weber", status="ok", price_cents=25000, currency="EUR", active=True,
         made_at=datetime(2026, 1, 2, 3, 4, 5), due=date(2026, 2, 3), weight=Decimal("1.50"), note="plain"),
    dict(code="a/b <&> \"c\" 'd'", owner="\u202eEvil <b>Name</b>", status="weird<", price_cents=-5, currency="jpy ",
         active=False, made_at=datetime(1, 1, 1, 0, 30), due=None, weight=None, note="<script>alert(1)</script>"),
    dict(code="ü", owner=None, status=None, price_cents=None, currency=None, active=None, made_at=None,
         due=None, weight=Decimal("-2.25"), note=None),
]


@pytest.fixture(scope="module")
def widgets():
    metadata = MetaData()
    table = Table("widgets", metadata, Column("code", String, primary_key=True), Column("owner", String),
                  Column("status", String), Column("price_cents", Integer), Column("currency", String(3)),
                  Column("active", Boolean), Column("made_at", DateTime), Column("due", Date),
                  Column("weight", Numeric(6, 2)), Column("note", String))
    record = Record("widgets", key="code", title="{owner} ({code})", exact=["code"],
                    columns=["code", "owner", "status", "price_cents", "active", "made_at", "due", "weight", "note"],
                    personal={"owner": mask.name}, money={"price_cents": Money(currency_column="currency")},
                    badges={"status": {"ok": "success"}})
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), VALUES)
        reflected = ReflectedRecord(record, table, "sqlite")
        rows = conn.execute(select(*(table.c[name] for name in reflected.list_names))).all()
    return reflected, rows


def _cell_by_cell(reflected, rows, base, revealed, zone) -> str:
    """The rows as the per-cell rule renders them (the lists' code before it was compiled)."""
    show, out = Shown(reflected, revealed), []
    for row in rows:
        values = row._mapping
        link = escape(record_url(base, values[reflected.record.key]))
        cells = []
        for column in columns(reflected):
            classes = " ".join(name for name, wanted in (("masked", column.kind == "personal"),
                                                         ("text-right", column.numeric)) if wanted)
            opening = f'<td class="{classes}">' if classes else "<td>"
            html = show.cell(column, values, zone)
            cells.append(f'{opening}<a href="{link}">{html}</a></td>' if column.kind == "key" else f"{opening}{html}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out)


@pytest.mark.parametrize("zone", [UTC_ZONE, ZoneInfo("America/New_York")], ids=["utc", "new-york"])
@pytest.mark.parametrize("revealed", [False, True], ids=["masked", "revealed"])
def test_compiled_rows_match_the_cell_rule(widgets, revealed, zone):
    reflected, rows = widgets
    compiled = render_rows(reflected, rows, "/admin/records/widgets/", columns(reflected), {}, revealed, zone)
    assert str(compiled) == _cell_by_cell(reflected, rows, "/admin/records/widgets/", revealed, zone)
    assert "<script>" not in compiled and "&lt;script&gt;" in compiled
    assert "EUR 250.00" in compiled and "JPY -5" in compiled
    assert ("[U+202E]Evil &lt;b&gt;Name&lt;/b&gt;" in compiled) == revealed  # bidi controls shown, never obeyed


def test_a_selected_list_names_each_checkbox_by_its_row(widgets):
    reflected, rows = widgets
    compiled = str(render_rows(reflected, rows, "/r/", columns(reflected), {}, False, UTC_ZONE, select=True))
    first_cells = [line.split("</td>", 1)[0] for line in compiled.split("\n")]
    assert first_cells == [
        '<tr><td><input type="checkbox" name="key" value="w-1" aria-label="Select widget w-1">',
        '<tr><td><input type="checkbox" name="key" value="a/b &lt;&amp;&gt; &#34;c&#34; &#39;d&#39;" '
        'aria-label="Select widget a/b &lt;&amp;&gt; &#34;c&#34; &#39;d&#39;">',
        '<tr><td><input type="checkbox" name="key" value="ü" aria-label="Select widget ü">',
    ]


def _title_rule(reflected, values, revealed) -> str:
    """The title as the declaration says: its template filled with each column's text (Shown.text)."""
    show = Shown(reflected, revealed)
    return reflected.record.title.format(**{name: show.text(name, values) for name in reflected.record.title_columns})


@pytest.mark.parametrize("revealed", [False, True], ids=["masked", "revealed"])
def test_compiled_titles_match_the_template_read_by_name_or_by_position(widgets, revealed):
    reflected, rows = widgets
    by_name = title_function(reflected, revealed)
    by_position = row_title_function(reflected, revealed, rows[0]._fields)
    by_mapping = row_title_function(reflected, revealed, None)  # rows of two statements: read by name
    for row in rows:
        expected = _title_rule(reflected, row._mapping, revealed)
        assert by_name(row._mapping) == by_position(row) == by_mapping(row) == expected
    assert by_position(rows[0]) == ("Anna Weber (w-1)" if revealed else "A••• W••• (w-1)")
    assert by_position(rows[2]) == " (ü)"


ODD_TEXT = ["", "a", "ab", "abc@x", "abcd@e.f", "abcde@mail.example.co.uk", "a@b", "@x.y", "x@", "@", "no-at-sign",
            "  Anna   Maria  Weber ", "\u202eevil@x\u200f.y", "a<b>@c&d.e", "'q'@\"r\".s", "ü@ß.de", None]


@pytest.mark.parametrize("rule", [mask.email, mask.name, mask.phone], ids=lambda rule: rule.__name__)
def test_masks_written_into_the_rows_match_the_mask_functions(rule):
    # email and name are written into the row function (rows._INLINE_MASKS); phone is called: the same text.
    metadata = MetaData()
    table = Table("people", metadata, Column("id", Integer, primary_key=True), Column("contact", String))
    record = Record("people", key="id", title="{contact}", exact=["id"], columns=["id", "contact"],
                    personal={"contact": rule})
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": n, "contact": text} for n, text in enumerate(ODD_TEXT, 1)])
        reflected = ReflectedRecord(record, table, "sqlite")
        rows = conn.execute(select(*(table.c[name] for name in reflected.list_names))).all()
    compiled = str(render_rows(reflected, rows, "/p/", columns(reflected), {}, False, UTC_ZONE))
    assert compiled == _cell_by_cell(reflected, rows, "/p/", False, UTC_ZONE)
    assert "abcde@mail" not in compiled and "Anna" not in compiled and "Maria" not in compiled
    # Titles (an order's customer in a list) write the same masks in.
    title = row_title_function(reflected, False, rows[0]._fields)
    assert [title(row) for row in rows] == [_title_rule(reflected, row._mapping, False) for row in rows]


def test_amounts_in_a_currency_read_from_the_row_are_escaped_as_the_cell_rule_escapes_them():
    # The compiled rows escape the row's currency once for all its amounts (digits need no escaping).
    metadata = MetaData()
    table = Table("bills", metadata, Column("id", Integer, primary_key=True), Column("net_cents", Integer),
                  Column("gross_cents", Integer), Column("currency", String))
    record = Record("bills", key="id", title="Bill {id}", exact=["id"], columns=["id", "net_cents", "gross_cents"],
                    money={"net_cents": Money(currency_column="currency"),
                           "gross_cents": Money(currency_column="currency")})
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    currencies = ["EUR", "<SCRIPT>", "a&b", "jpy ", "", None, "KWD"]
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": n, "net_cents": -123456, "gross_cents": n, "currency": currency}
                                      for n, currency in enumerate(currencies, 1)])
        reflected = ReflectedRecord(record, table, "sqlite")
        rows = conn.execute(select(*(table.c[name] for name in reflected.list_names))).all()
    compiled = str(render_rows(reflected, rows, "/b/", columns(reflected), {}, False, UTC_ZONE))
    assert compiled == _cell_by_cell(reflected, rows, "/b/", False, UTC_ZONE)
    assert "&lt;SCRIPT&gt; -1,234.56" in compiled and "<SCRIPT>" not in compiled and "KWD -123.456" in compiled
