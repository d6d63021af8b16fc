"""Charts of the statistics page, drawn on the server as SVG: no script, printable, and the
numbers stay in a table beside each chart for screen readers and for copying.

The functions turn figures into shapes (coordinates in the SVG's own units); the template
``mangel/workbench/_charts.html`` writes them out with a title and a description.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH = 640
BAR_HEIGHT = 26
BAR_GAP = 10
LABEL_WIDTH = 230
LINE_HEIGHT = 240
PAD = 32


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    y: float
    width: float
    height: float
    value_x: float
    value: str


def nice_max(value: float) -> float:
    """A round upper end for an axis (1, 2, 5 × 10^n) at or above ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def stacked_bars(
    rows: list[tuple[str, float, float]], fmt=str
) -> tuple[list[tuple[Bar, Bar]], int, float]:
    """Horizontal bars of two parts (open, closed) per row; returns the bars, the height of
    the chart and the axis maximum."""
    top = nice_max(max((a + b for _label, a, b in rows), default=0))
    scale = (WIDTH - LABEL_WIDTH - 60) / top
    bars = []
    for index, (label, first, second) in enumerate(rows):
        y = PAD / 2 + index * (BAR_HEIGHT + BAR_GAP)
        first_w, second_w = first * scale, second * scale
        end = LABEL_WIDTH + first_w + second_w + 6
        total = fmt(first + second)
        bars.append(
            (
                Bar(label, LABEL_WIDTH, y, first_w, BAR_HEIGHT, end, total),
                Bar(label, LABEL_WIDTH + first_w, y, second_w, BAR_HEIGHT, end, total),
            )
        )
    height = int(PAD + len(rows) * (BAR_HEIGHT + BAR_GAP))
    return bars, height, top


@dataclass(frozen=True)
class LineChart:
    points: str  # the SVG polyline
    dots: list[tuple[float, float, str, str]]  # x, y, label, value
    ticks: list[tuple[float, str]]  # y, value of the horizontal grid lines
    height: int
    left: int
    right: int
    bottom: float


def line_chart(series: list[tuple[str, float]], fmt=str) -> LineChart:
    """A line through the values of consecutive periods (months), with a labelled grid."""
    left, right, top_pad, bottom_pad = 48, 40, 16, 40
    top = nice_max(max((v for _label, v in series), default=0))
    inner_w = WIDTH - left - right
    inner_h = LINE_HEIGHT - top_pad - bottom_pad
    step = inner_w / max(len(series) - 1, 1)
    dots = []
    for index, (label, value) in enumerate(series):
        x = left + (index * step if len(series) > 1 else inner_w / 2)
        y = top_pad + inner_h * (1 - value / top)
        dots.append((round(x, 1), round(y, 1), label, fmt(value)))
    divisions = int(top) if top <= 5 else 5
    ticks = [
        (round(top_pad + inner_h * (1 - i / divisions), 1), fmt(top * i / divisions))
        for i in range(divisions + 1)
    ]
    return LineChart(
        right=WIDTH - right,
        points=" ".join(f"{x},{y}" for x, y, _l, _v in dots),
        dots=dots,
        ticks=ticks,
        height=LINE_HEIGHT,
        left=left,
        bottom=top_pad + inner_h,
    )
