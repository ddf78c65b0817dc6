"""Bar charts drawn on the server as standalone SVG documents (shown in pages and downloaded).

A chart is a list of labelled rows, each with one value per series (``None``: no value); bars
are horizontal so that long French step names stay readable. The document carries its title and
a description (``<title>``, ``<desc>``, ``role="img"``); the page shows the same numbers in a
table, which is the accessible form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

#: the series' colours (dark enough for white text nearby, distinct for colour-blind readers)
COLOURS = ("#1f5fa8", "#c75d00", "#2e7d32", "#7b1fa2")
#: the most rows one chart draws (a process has tens of steps; beyond, the table has them all)
MAX_ROWS = 60
LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH = 300, 420, 90
BAR_HEIGHT, GAP, TOP = 14, 10, 58


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    series: list[str]  # one name per value of a row
    rows: list[tuple[str, list[float | None]]]


def _text(x: float, y: float, body: str, anchor: str = "start", size: int = 12, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
            f'font-family="sans-serif" fill="#1b1b1b">{escape(body)}</text>')


def _shorten(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def render(chart: Chart, shown: Callable[[float], str]) -> str:
    """The chart as an SVG document; ``shown`` writes a value as the reader reads it (« 3,5 j »)."""
    rows = chart.rows[:MAX_ROWS]
    per_row = BAR_HEIGHT * max(len(chart.series), 1) + GAP
    height = TOP + per_row * max(len(rows), 1) + 20
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    top = max((value for _, values in rows for value in values if value is not None), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(chart.title)}</title>',
        f'<desc id="chart-desc">{escape(chart.description)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(8, 22, chart.title, size=15, weight="bold"),
    ]
    x = 8.0
    for index, name in enumerate(chart.series):  # the legend
        parts.append(f'<rect x="{x:.1f}" y="32" width="12" height="12" fill="{COLOURS[index % len(COLOURS)]}"/>')
        parts.append(_text(x + 16, 43, name))
        x += 24 + 7 * len(name)
    y = float(TOP)
    for label, values in rows:
        parts.append(_text(LABEL_WIDTH - 8, y + BAR_HEIGHT - 3, _shorten(label), anchor="end"))
        for index, value in enumerate(values):
            bar_y = y + index * BAR_HEIGHT
            if value is None:
                parts.append(_text(LABEL_WIDTH + 4, bar_y + BAR_HEIGHT - 3, "—"))
                continue
            length = max(BAR_WIDTH * value / top, 1.0 if value > 0 else 0.0)
            colour = COLOURS[index % len(COLOURS)]
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{bar_y:.1f}" width="{length:.1f}" height="{BAR_HEIGHT - 2}" '
                         f'fill="{colour}"/>')
            parts.append(_text(LABEL_WIDTH + length + 4, bar_y + BAR_HEIGHT - 3, shown(value), size=11))
        y += per_row
    if not rows:
        parts.append(_text(LABEL_WIDTH, TOP + 12, "—"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
