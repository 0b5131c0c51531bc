"""The bar charts' geometry: one scale for every bar, None draws nothing."""

from __future__ import annotations

from pdtracker.association.charts import BAR_WIDTH, LABEL_WIDTH, ROW_HEIGHT, bar_chart


def test_bars_share_one_scale_and_the_marker_sits_on_it() -> None:
    chart = bar_chart(
        [("A", (0.5, 1.0), ("50%", "100%")), ("B", (None, 0.25), ("—", "25%"))],
        scale=1.0,
        marker=0.5,
    )
    assert [b.widths for b in chart.bars] == [
        (BAR_WIDTH / 2, BAR_WIDTH), (0.0, BAR_WIDTH / 4),
    ]  # fmt: skip
    assert [b.y for b in chart.bars] == [0, ROW_HEIGHT]
    assert chart.marker_x == LABEL_WIDTH + BAR_WIDTH / 2
    assert chart.height == 2 * ROW_HEIGHT
    assert not chart.empty


def test_without_a_scale_the_largest_value_fills_the_width() -> None:
    chart = bar_chart([("A", (30,), ("30",)), ("B", (120,), ("120",))])
    assert [b.widths[0] for b in chart.bars] == [BAR_WIDTH / 4, BAR_WIDTH]


def test_nothing_counted_is_an_empty_chart() -> None:
    assert bar_chart([("A", (0, None), ("0", "—"))]).empty
    assert bar_chart([]).empty
