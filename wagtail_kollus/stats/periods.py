"""Date ranges of statistics reports, and where Kollus can still answer for them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# Kollus answers statistics for dates within the last year only (docs: "within the last 365
# days"). The oldest day asked for is therefore today - 364: one day of margin is cheaper than
# a 422 from a clock that is a little ahead.
KOLLUS_WINDOW_DAYS = 365

PRESET_DAYS = (7, 30, 90, 365)
DEFAULT_PRESET_DAYS = 30


def utc_today(now: datetime | None = None) -> date:
    """Kollus statistics are per UTC day, whatever the site's time zone."""
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def oldest_day_kollus_answers(today: date) -> date:
    return today - timedelta(days=KOLLUS_WINDOW_DAYS - 1)


@dataclass(frozen=True, slots=True)
class DateRange:
    """An inclusive range of UTC days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start}).")

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> DateRange:
        """The ``days`` days ending today (today included: its figures are partial)."""
        end = today or utc_today()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __iter__(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def contiguous_runs(days: Iterable[date]) -> list[DateRange]:
    """Sorted days grouped into the fewest inclusive ranges (one remote call per run)."""
    runs: list[DateRange] = []
    run_start = previous = None
    for day in sorted(set(days)):
        if previous is not None and day == previous + timedelta(days=1):
            previous = day
            continue
        if run_start is not None:
            runs.append(DateRange(run_start, previous))
        run_start = previous = day
    if run_start is not None:
        runs.append(DateRange(run_start, previous))
    return runs
