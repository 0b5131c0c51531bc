"""Horizontal bar charts as plain numbers for an inline SVG (no scripts, no library).

The template draws each bar from these coordinates; the numbers are also printed
beside the bars, so the chart never carries a figure the tables do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_WIDTH = 170
BAR_WIDTH = 420
ROW_HEIGHT = 22
VALUE_WIDTH = 90


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label and up to two bars (e.g. now and in 12 months)."""

    label: str
    y: int
    widths: tuple[float, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart's geometry."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_width: int
    row_height: int
    marker_x: float | None  # a vertical line (e.g. the national target), if any

    @property
    def empty(self) -> bool:
        """No bar to draw (nothing counted yet): the template leaves the chart out."""
        return not any(w > 0 for b in self.bars for w in b.widths)


def bar_chart(
    rows: Sequence[tuple[str, Sequence[float | None], Sequence[str]]],
    *,
    scale: float | None = None,
    marker: float | None = None,
) -> Chart:
    """Bars for ``(label, values, texts)`` rows; values share one scale.

    ``scale`` is the value of a full-width bar (default: the largest value, at
    least 1). None values draw no bar.
    """
    values = [v for _label, vs, _t in rows for v in vs if v is not None]
    top = scale if scale is not None else max([1.0, *values])
    bars = []
    for i, (label, vs, texts) in enumerate(rows):
        widths = tuple(
            0.0 if v is None else round(BAR_WIDTH * min(v, top) / top, 1) for v in vs
        )
        bars.append(Bar(label, i * ROW_HEIGHT, widths, tuple(texts)))
    marker_x = (
        None if marker is None else round(LABEL_WIDTH + BAR_WIDTH * marker / top, 1)
    )
    return Chart(
        bars=tuple(bars),
        width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        height=max(1, len(bars)) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bar_width=BAR_WIDTH,
        row_height=ROW_HEIGHT,
        marker_x=marker_x,
    )
