"""The SVG charts: text alternatives, gaps, escaping, theme-neutral colours."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

from wagtail_kollus.stats.charts import Point, format_bytes, render_chart

DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(5)]


def _svg(html: str) -> ElementTree.Element:
    return ElementTree.fromstring(re.search(r"<svg.*</svg>", html, re.S).group(0))


def test_a_bar_chart_has_its_text_alternatives():
    html = render_chart(
        [Point(d, v) for d, v in zip(DAYS, [1, 5, None, 3, 0], strict=True)],
        chart_id="c",
        title="Views per day",
        value_name="Views",
    )
    svg = _svg(html)
    assert svg.get("role") == "img"
    assert "total 9" in svg.get("aria-label") and "highest 5" in svg.get("aria-label")
    assert svg.find("title").text == "Views per day"
    assert "highest 5" in svg.find("desc").text
    # One bar per known day (the None day is a gap), and a hidden row for every day.
    assert html.count('class="kollus-chart__bar"') == 4
    assert html.count('<tr><th scope="row">') == 5
    assert "no data" in html
    assert 'class="w-sr-only kollus-chart__data"' in html


def test_colours_come_from_the_theme_not_from_the_chart():
    html = render_chart([Point(DAYS[0], 1)], chart_id="c", title="t", value_name="v", kind="line")
    assert 'fill="#' not in html and 'stroke="#' not in html
    assert "kollus-chart__line" in html


def test_text_is_escaped():
    html = render_chart(
        [Point(DAYS[0], 1)], chart_id="c", title="<script>x</script>", value_name="a&b"
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "a&amp;b" in html


def test_an_empty_period_says_so():
    html = render_chart([Point(d, None) for d in DAYS], chart_id="c", title="t", value_name="Views")
    assert "no figures for this period" in html
    assert "kollus-chart__bar" not in html


def test_format_bytes():
    assert format_bytes(999) == "999 B"
    assert format_bytes(1_500_000) == "1.5 MB"


def _y_axis(html: str) -> list[tuple[str, float]]:
    """Each y-axis label with the height of its gridline, from the top of the chart down."""
    svg = _svg(html)
    grid = [float(line.get("y1")) for line in svg.iter("line")
            if line.get("class") == "kollus-chart__grid"]
    labels = [text for text in svg.iter("text")
              if text.get("text-anchor") == "end" and float(text.get("x")) < 64]
    assert len(labels) == len(grid)
    return sorted(
        ((text.text, y) for text, y in zip(labels, grid, strict=True)), key=lambda item: item[1]
    )


def test_small_counts_get_distinct_whole_ticks_at_their_gridlines():
    """A peak of 1 was labelled 1 / 0 / 0 (the middle 0.5 rounded), a peak of 5 "5 / 2 / 0"
    with the middle gridline at 2.5."""
    for peak, expected in ((1, ["1", "0"]), (5, ["6", "4", "2", "0"]), (0, ["1", "0"]),
                           (100, ["100", "50", "0"]), (7, ["8", "6", "4", "2", "0"])):
        html = render_chart([Point(DAYS[0], 0), Point(DAYS[1], peak)], chart_id="c", title="t",
                            value_name="Videos")
        axis = _y_axis(html)
        assert [label for label, _y in axis] == expected
        bottom, top = axis[-1][1], axis[0][1]
        for label, gy in axis:  # each label sits on its own gridline, proportionally
            assert abs(gy - (bottom - int(label) / int(expected[0]) * (bottom - top))) < 0.11
