"""Watched seconds as merged ``[start, end)`` intervals: what is watched twice counts once.

A list such as ``[[0, 120], [300, 360]]``: sorted, non-overlapping and non-adjacent (touching
intervals are joined), whole seconds. Compact (a learner who watches straight through has one
pair, whatever the length) and exact, unlike a fixed-size bitmap whose resolution would
depend on the video's length.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = list[int]


def merge_intervals(*groups: Iterable[Iterable[int]]) -> list[Interval]:
    """The union of every interval of ``groups``, merged; empty or inverted ones are dropped."""
    pairs = sorted(
        (int(start), int(end)) for group in groups for start, end in group if int(end) > int(start)
    )
    merged: list[Interval] = []
    for start, end in pairs:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def total_seconds(intervals: Iterable[Iterable[int]]) -> int:
    return sum(end - start for start, end in intervals)


def watched_prefix_end(intervals: Iterable[Iterable[int]]) -> int:
    """Where the part watched without a gap from 0 ends (0 if the start was not watched).

    What a no-skip video lets the learner seek within (Kollus's ``seekable_end``).
    """
    for start, end in intervals:
        return end if start == 0 else 0
    return 0
