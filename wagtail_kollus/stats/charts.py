"""Server-rendered SVG charts: no JavaScript, no CDN, readable in light and dark themes.

Colours come from ``currentColor`` and Wagtail's admin CSS variables (set in
``static/wagtail_kollus/css/stats.css``), so the admin theme decides them. Every chart is an
``role="img"`` SVG with a ``<title>``, a ``<desc>`` and an ``aria-label`` summary, followed by
a visually hidden table of the same figures for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 720, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 12, 12, 28


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    value: float | None  # None: no figures that day (drawn as a gap)


MAX_TICK_INTERVALS = 4


def axis_ticks(value: float) -> list[int]:
    """The y-axis gridlines for a series peaking at ``value``: 0 up to a round top ≥ value,
    a whole "nice" step apart (1, 2 or 5 × 10^n), at most ``MAX_TICK_INTERVALS`` apart.

    Every series charted is a whole number (views, learners, videos, bytes), so a step is never
    below 1: each label is a distinct value drawn exactly at its gridline (a peak of 1 gets
    0 and 1, not a "0.5" rounded to a second "0").
    """
    if value <= 0:
        return [0, 1]
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            intervals = -(-value // step)  # ceil
            if intervals <= MAX_TICK_INTERVALS:
                return [int(step * n) for n in range(int(intervals) + 1)]
        magnitude *= 10


def _summary(points: Sequence[Point], value_name: str, fmt: Callable[[float], str]) -> str:
    known = [p for p in points if p.value is not None]
    if not known:
        return _("%(name)s: no figures for this period.") % {"name": value_name}
    peak = max(known, key=lambda p: p.value)
    return _(
        "%(name)s from %(start)s to %(end)s: total %(total)s, highest %(peak)s on %(peak_day)s."
    ) % {
        "name": value_name,
        "start": date_format(points[0].day, "SHORT_DATE_FORMAT"),
        "end": date_format(points[-1].day, "SHORT_DATE_FORMAT"),
        "total": fmt(sum(p.value for p in known)),
        "peak": fmt(peak.value),
        "peak_day": date_format(peak.day, "SHORT_DATE_FORMAT"),
    }


def render_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    value_name: str,
    format_value: Callable[[float], str] = lambda v: f"{v:,.0f}",
    kind: str = "bars",
    compact: bool = False,
) -> SafeString:
    """A ``<figure>`` holding the SVG chart and its hidden data table.

    ``kind`` is ``"bars"`` (one bar per day) or ``"line"`` (an area line, for long ranges).
    ``compact`` drops the axes (dashboard sparkline).
    """
    width, height = (240, 48) if compact else (WIDTH, HEIGHT)
    left, right, top, bottom = (
        (2, 2, 2, 2) if compact else (PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM)
    )
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [p.value for p in points if p.value is not None]
    ticks = axis_ticks(max(known) if known else 0)
    top_value = ticks[-1]
    count = max(len(points), 1)
    step = plot_w / count

    def y(value: float) -> float:
        return top + plot_h - (value / top_value) * plot_h

    # Each day's label once: the bars' tooltips and the hidden table both show it.
    labels = [date_format(p.day, "SHORT_DATE_FORMAT") for p in points]
    summary = _summary(points, value_name, format_value)
    parts = [
        f'<svg class="kollus-chart__svg" role="img" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(summary)}" '
        f'focusable="false" data-chart="{escape(chart_id)}">',
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>",
    ]
    if not compact:
        for tick in ticks:
            gy = y(tick)
            parts.append(
                f'<line class="kollus-chart__grid" x1="{left}" x2="{width - right}" '
                f'y1="{gy:.1f}" y2="{gy:.1f}"/>'
                f'<text class="kollus-chart__label" x="{left - 6}" y="{gy + 4:.1f}" '
                f'text-anchor="end">{escape(format_value(tick))}</text>'
            )
        if points:
            for anchor, label, x in (
                ("start", labels[0], left),
                ("end", labels[-1], width - right),
            ):
                parts.append(
                    f'<text class="kollus-chart__label" x="{x}" y="{height - 8}" '
                    f'text-anchor="{anchor}">{escape(label)}</text>'
                )
    if kind == "line":
        parts.append(_line(points, left, step, y))
    else:
        parts.append(_bars(points, labels, left, step, y, top + plot_h, format_value))
    parts.append("</svg>")
    table = _table(points, labels, title, value_name, format_value)
    return mark_safe(  # noqa: S308 - every interpolated text above is escaped
        f'<figure class="kollus-chart{" kollus-chart--compact" if compact else ""}" '
        f'id="{escape(chart_id)}">{"".join(parts)}{table}</figure>'
    )


def _bars(points, labels, left, step, y, baseline, fmt) -> str:
    gap = min(2.0, step * 0.2)
    out = []
    for index, (point, label) in enumerate(zip(points, labels, strict=True)):
        if point.value is None:
            continue
        top_y = y(point.value)
        out.append(
            f'<rect class="kollus-chart__bar" x="{left + index * step + gap / 2:.1f}" '
            f'y="{top_y:.1f}" width="{max(step - gap, 0.5):.1f}" '
            f'height="{max(baseline - top_y, 0):.1f}"><title>'
            f"{escape(label)}: {escape(fmt(point.value))}"
            "</title></rect>"
        )
    return "".join(out)


def _line(points, left, step, y) -> str:
    segments, current = [], []
    for index, point in enumerate(points):
        if point.value is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{left + (index + 0.5) * step:.1f},{y(point.value):.1f}")
    if current:
        segments.append(current)
    return "".join(
        f'<polyline class="kollus-chart__line" points="{" ".join(segment)}"/>'
        for segment in segments
    )


def _table(points, labels, title, value_name, fmt) -> str:
    no_data = escape(_("no data"))
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        f"<td>{escape(fmt(p.value)) if p.value is not None else no_data}</td></tr>"
        for p, label in zip(points, labels, strict=True)
    )
    return (
        f'<table class="w-sr-only kollus-chart__data"><caption>{escape(title)}</caption>'
        f'<thead><tr><th scope="col">{escape(_("Date"))}</th>'
        f'<th scope="col">{escape(value_name)}</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def format_bytes(value: float) -> str:
    """1536 → "1.5 KB" (decimal units, as Kollus's console shows transfer)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} PB"  # pragma: no cover


def format_known_bytes(value: float | None) -> str | None:
    """:func:`format_bytes`, or None for an unknown amount (the screens show it as unknown,
    never as "0 B")."""
    return None if value is None else format_bytes(value)
