"""Small SVG charts drawn on the server: no script, no CDN, a <title> tooltip on every mark.

A chart is drawn at its natural size (width and height in pixels, so FONT_SIZE is the size on screen) and only
ever shrinks to fit (console.css); the default widths fit the dashboard's full-width row at 1024 pixels.
"""
from __future__ import annotations

import hashlib
import math

from markupsafe import Markup, escape

PALETTE = ("#2e7d32", "#66bb6a", "#90a4ae", "#e53935", "#fb8c00", "#8e24aa", "#1e88e5", "#6d4c41")
LINE_COLOUR = "#1565c0"
FONT_SIZE = 13
FONT = f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}"'
CHAR_WIDTH = 7.2  # of FONT, on average
WIDTH = 860


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def _nice_max(value: float, ticks: int = 4) -> float:
    """The smallest round number of at least `value` that splits into `ticks` round steps."""
    if value <= 0:
        return float(ticks)
    step = value / ticks
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude * ticks
    return 10 * magnitude * ticks


def _legend(series_names: list[str], colours: list[str], x: int, y: int, extra: list[tuple[str, str]] = (),
            prefix: str = "") -> str:
    parts, offset = [], x
    for index, (name, colour) in enumerate(list(zip(series_names, colours)) + list(extra)):
        hatch = (f'<rect x="{offset:.0f}" y="{y - 11}" width="12" height="12" fill="url(#{prefix}-{index})"/>'
                 if prefix and 0 < index < min(len(series_names), len(PATTERNS)) else "")
        parts.append(f'<rect x="{offset:.0f}" y="{y - 11}" width="12" height="12" fill="{colour}"/>{hatch}'
                     f'<text x="{offset + 16:.0f}" y="{y}" {FONT}>{escape(name)}</text>')
        offset += 26 + CHAR_WIDTH * len(name)
    return "".join(parts)


def _svg_open(title: str, width: float, height: float) -> str:
    # Pixel width and height, not width="100%": a chart stretched or squeezed into its column scales its
    # text too (a 640-unit chart in a 470-pixel column had 9-pixel labels).
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" role="img" aria-label="{escape(title)}" class="deflection-chart">'
            f'<title>{escape(title)}</title>')


def column_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *,
                 line: tuple[str, list[float]] | None = None, reference: tuple[str, list[float]] | None = None,
                 width: int = WIDTH, height: int = 300, label_every: int = 1) -> Markup:
    """Stacked columns per label; an optional rate line (0..1, right axis) and a reference line (left axis)."""
    left, right, top, bottom = 48, 44 if line else 12, 26, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(labels), 1)
    totals = [sum(values[i] for _name, values in series) for i in range(len(labels))]
    peak = max(totals + (reference[1] if reference else []) + [0])
    y_max = _nice_max(peak)
    slot = plot_w / count
    bar_w = max(slot * 0.7, 1)
    colours = list(PALETTE[:len(series)])
    out = [_svg_open(title, width, height)]
    for tick in range(5):
        value = y_max * tick / 4
        y = top + plot_h - plot_h * tick / 4
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{_number(value)}</text>')
        if line:
            out.append(f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" {FONT}>{tick * 25}%</text>')
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        for (name, values), colour in zip(series, colours):
            value = values[i]
            h = plot_h * value / y_max if y_max else 0
            base -= h
            if value:
                out.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                           f'<title>{escape(label)}: {escape(name)} {_number(value)}</title></rect>')
        if i % max(label_every, 1) == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>'
                       f'{escape(label)}</text>')
    extra = []
    if reference:
        points = " ".join(f"{left + slot * i + slot / 2:.1f},{top + plot_h - plot_h * v / y_max:.1f}"
                          for i, v in enumerate(reference[1]))
        out.append(f'<polyline points="{points}" fill="none" stroke="#d32f2f" stroke-width="2" '
                   f'stroke-dasharray="6 4"><title>{escape(reference[0])}</title></polyline>')
        extra.append((reference[0], "#d32f2f"))
    if line:
        name, rates = line
        points = " ".join(f"{left + slot * i + slot / 2:.1f},{top + plot_h - plot_h * min(max(r, 0), 1):.1f}"
                          for i, r in enumerate(rates))
        out.append(f'<polyline points="{points}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>')
        for i, rate in enumerate(rates):
            out.append(f'<circle cx="{left + slot * i + slot / 2:.1f}" '
                       f'cy="{top + plot_h - plot_h * min(max(rate, 0), 1):.1f}" r="3" fill="{LINE_COLOUR}">'
                       f'<title>{escape(labels[i])}: {escape(name)} {rate:.0%}</title></circle>')
        extra.append((name, LINE_COLOUR))
    out.append(_legend([name for name, _values in series], colours, left, height - 6, extra))
    out.append("</svg>")
    return Markup("".join(out))


# Tool health's results: green only for success; refusals amber, rejections purple, failures red, each with
# its own pattern as well, so that no two read alike in grey or to a colour-blind eye.
STATUS_COLOURS = {"succeeded": "#2e7d32", "refused": "#f9a825", "rejected": "#6a1b9a", "failed": "#c62828"}
PATTERNS = ("", "diagonal", "dots", "cross")
LINE_HEIGHT = 16


def _pattern_defs(prefix: str, count: int) -> str:
    """White hatching laid over a series' colour: series 0 is plain, the others each get a pattern."""
    shapes = {"diagonal": '<path d="M0,6 L6,0" stroke="#fff" stroke-width="1.5"/>',
              "dots": '<circle cx="3" cy="3" r="1.3" fill="#fff"/>',
              "cross": '<path d="M0,0 L6,6 M6,0 L0,6" stroke="#fff" stroke-width="1.2"/>'}
    defs = [f'<pattern id="{prefix}-{index}" width="6" height="6" patternUnits="userSpaceOnUse">{shapes[kind]}'
            f'</pattern>' for index, kind in enumerate(PATTERNS[:count]) if kind]
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _mark(prefix: str, index: int, x: float, y: float, w: float, h: float, colour: str, tip: str) -> str:
    hatch = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="url(#{prefix}-{index})"/>'
             if 0 < index < len(PATTERNS) else "")
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}">'
            f'<title>{tip}</title></rect>{hatch}')


def _wrap(label: str, fits: int) -> list[str]:
    """The label in lines of at most `fits` characters, broken between words (a longer word gets its own line)."""
    lines, line = [], ""
    for word in label.split() or [""]:
        if line and len(line) + 1 + len(word) > fits:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line]


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], *, width: int = WIDTH,
              bar_height: int = 20, grouped: bool = False, colours: list[str] | None = None) -> Markup:
    """Horizontal bars, one row per label (categories, tasks, runbooks): the series stacked, or with `grouped`
    side by side (one bar each, for comparing them). Labels wrap, never cut; each series after the first
    has a pattern as well as a colour, and a legend names them."""
    left, right, top = 300, 60, 8
    fits = int((left - 12) / CHAR_WIDTH)
    colours = list(colours or PALETTE[:len(series)])
    prefix = "p" + hashlib.sha1("\n".join([title, *labels]).encode()).hexdigest()[:10]  # ids unique on the page
    plot_w = width - left - right
    totals = [sum(values[i] for _name, values in series) for i in range(len(labels))]
    peaks = [max((values[i] for _name, values in series), default=0) for i in range(len(labels))]
    x_max = _nice_max(max((peaks if grouped else totals) + [0]))
    bars = len(series) if grouped else 1
    rows, y = [], top
    for label in labels:
        lines = _wrap(label, fits)
        block = max(bars * bar_height + (bars - 1) * 2, len(lines) * LINE_HEIGHT)
        rows.append((y, lines, block))
        y += block + bar_height * 0.5
    height = y + 30
    out = [_svg_open(title, width, height), _pattern_defs(prefix, len(series))]
    for i, (label, (y, lines, block)) in enumerate(zip(labels, rows)):
        first = y + (block - len(lines) * LINE_HEIGHT) / 2 + LINE_HEIGHT * 0.8
        out.append(f'<text x="{left - 6}" y="{first:.1f}" text-anchor="end" {FONT}>'
                   + "".join(f'<tspan x="{left - 6}" dy="{0 if n == 0 else LINE_HEIGHT}">{escape(line)}</tspan>'
                             for n, line in enumerate(lines)) + "</text>")
        x = left
        for index, ((name, values), colour) in enumerate(zip(series, colours)):
            w = plot_w * values[i] / x_max if x_max else 0
            bar_y = y + (index * (bar_height + 2) if grouped else 0)
            tip = f"{escape(label)}: {escape(name)} {_number(values[i])}"
            if values[i]:
                out.append(_mark(prefix, index, x, bar_y, w, bar_height, colour, tip))
            if grouped:
                out.append(f'<text x="{x + w + 4:.1f}" y="{bar_y + bar_height * 0.75:.1f}" {FONT}>'
                           f'{escape(name)} {_number(values[i])}</text>')
            else:
                x += w
        if not grouped:
            out.append(f'<text x="{x + 4:.1f}" y="{y + bar_height * 0.7:.1f}" {FONT}>{_number(totals[i])}</text>')
    if len(series) > 1:
        out.append(_legend([name for name, _values in series], colours, left, int(height) - 6, prefix=prefix))
    out.append("</svg>")
    return Markup("".join(out))
