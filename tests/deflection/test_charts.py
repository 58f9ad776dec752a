"""Server-side SVG charts: escaped labels, no script, sensible with empty or zero data."""
import re

from console.deflection.charts import bar_chart, column_chart


def test_labels_and_names_are_escaped():
    svg = str(bar_chart("<b>title</b>", ["<script>alert(1)</script>"], [("a & b", [3])]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_columns_stack_and_carry_a_tooltip_per_mark():
    svg = str(column_chart("t", ["w1", "w2"], [("deflected", [2, 0]), ("escalated", [1, 3])],
                           line=("rate", [0.66, 0.0]), reference=("capacity", [4, 4])))
    assert svg.count("<rect") == 3 + 4  # three non-zero bars, plus a legend swatch per series and line
    assert "w1: deflected 2" in svg and "w2: escalated 3" in svg and "w1: rate 66%" in svg
    assert "<polyline" in svg and "capacity" in svg


def test_all_zero_data_still_draws_an_empty_chart():
    svg = str(column_chart("t", ["w1"], [("tickets", [0])]))
    assert "<rect" in svg and "nan" not in svg.lower()
    assert str(bar_chart("t", [], [("n", [])])).endswith("<title>t</title></svg>")


def test_charts_are_drawn_at_their_own_pixel_size_with_legible_text():
    import re

    for svg in (str(column_chart("t", [f"w{i}" for i in range(13)], [("deflected", list(range(13)))],
                                 line=("rate", [0.5] * 13))),
                str(bar_chart("t", ["orders", "a much longer category name"], [("a", [3, 4]), ("b", [1, 2])]))):
        box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
        # A width in pixels (never "100%"): stretched into a narrow column, the text shrank with the chart.
        assert re.search(rf'<svg[^>]* width="{box.group(1)}" height="{box.group(2)}"', svg)
        sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)]
        assert sizes and min(sizes) >= 12
        assert int(box.group(1)) <= 890  # fits the dashboard's card at a 1024-pixel window, so never scaled down


def test_grouped_bars_stand_side_by_side_with_their_values():
    svg = str(bar_chart("impact", ["refund"], [("before", [8]), ("after", [3])], grouped=True))
    bars = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"[^>]*fill="#', svg)
    (x1, y1, w1), (x2, y2, w2) = bars[:2]
    assert x1 == x2 and y1 != y2 and float(w1) > float(w2)  # both start at the axis: not stacked end to end
    assert "before 8" in svg and "after 3" in svg


def test_long_labels_wrap_and_are_never_cut():
    label = "an order whose shipping address was changed twice after the label was printed"
    svg = str(bar_chart("t", [label], [("n", [1])]))
    assert "…" not in svg
    assert " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)) == label


def test_each_series_after_the_first_has_a_pattern_as_well_as_a_colour():
    svg = str(bar_chart("t", ["a"], [("succeeded", [2]), ("refused", [1])], colours=["#2e7d32", "#f9a825"]))
    assert 'fill="#f9a825"' in svg and re.search(r'<pattern id="(p\w+-1)"', svg)
    pattern = re.search(r'<pattern id="(p\w+-1)"', svg).group(1)
    assert svg.count(f'fill="url(#{pattern})"') == 2  # on the bar and on its legend swatch
