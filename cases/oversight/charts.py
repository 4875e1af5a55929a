"""Server-side SVG charts: geometry computed here, drawn by templates/oversight/_charts.html.

No third-party host and no JavaScript. Right-to-left pages get mirrored charts: bars grow from
the right and time runs from right to left, the way the page reads.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 190
VALUE_GAP = 6
ROW = 26
BAR = 18


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    url: str
    x: float = 0
    y: float = 0
    width: float = 0
    label_x: float = 0
    value_x: float = 0


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    rtl: bool


def bar_chart(rows: list[tuple[str, int, str]], rtl: bool) -> BarChart:
    """Horizontal bars for (label, value, link) rows, scaled to the largest value."""
    top = max((value for _, value, _ in rows), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 70  # leave space for the value after the longest bar
    bars = []
    for i, (label, value, url) in enumerate(rows):
        width = room * value / top
        y = i * ROW + (ROW - BAR) / 2
        if rtl:
            x = WIDTH - LABEL_WIDTH - width
            label_x, value_x = WIDTH - 4, x - VALUE_GAP
        else:
            x = LABEL_WIDTH
            label_x, value_x = 4, x + width + VALUE_GAP
        bars.append(Bar(label, value, url, x, y, width, label_x, value_x))
    return BarChart(bars, max(len(rows), 1) * ROW, rtl)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]
    points: str  # the SVG polyline's points
    css_class: str


@dataclass(frozen=True)
class LineChart:
    series: list[Series]
    labels: list[tuple[float, str]]  # x position and text of each period
    gridlines: list[tuple[float, int]]  # y position and value
    height: int
    rtl: bool


def line_chart(
    named_values: list[tuple[str, list[int], str]], labels: list[str], rtl: bool, height: int = 220
) -> LineChart:
    """Lines over time for (name, values, css class) series sharing the period ``labels``."""
    margin_x, margin_top, margin_bottom = 40, 10, 30
    top = max((max(values, default=0) for _, values, _ in named_values), default=0) or 1
    top += top % 2  # even, so the middle gridline is a whole number, as its label says
    count = max(len(labels), 1)
    step = (WIDTH - 2 * margin_x) / max(count - 1, 1)
    plot_height = height - margin_top - margin_bottom

    def x(i: int) -> float:
        offset = margin_x + i * step
        return WIDTH - offset if rtl else offset

    def y(value: float) -> float:
        return margin_top + plot_height * (1 - value / top)

    series = [
        Series(
            name,
            values,
            " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)),
            css,
        )
        for name, values, css in named_values
    ]
    grid = [(y(top * f), round(top * f)) for f in (0, 0.5, 1)]
    return LineChart(series, [(x(i), text) for i, text in enumerate(labels)], grid, height, rtl)
