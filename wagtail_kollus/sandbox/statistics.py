"""Deterministic Kollus statistics: every number is a hash of (date, key), so tests can compute
the expected figures with the same functions."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

MAX_RANGE_DAYS = 92  # Kollus: at most 3 months per call
MAX_AGE_DAYS = 365  # ... and only within the last year


def _number(*parts: object) -> int:
    return int(hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def today() -> date:
    return datetime.now(UTC).date()


def parse_day(value: str | None) -> date | None:
    if not value or len(value) != 8 or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def range_error(start: date | None, end: date | None) -> str | None:
    """Why Kollus would refuse this range, or None."""
    if start is None or end is None:
        return "start_date and end_date are required as YYYYMMDD."
    if start > end:
        return "start_date must not be after end_date."
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        return f"The date range must not be longer than {MAX_RANGE_DAYS} days."
    if start < today() - timedelta(days=MAX_AGE_DAYS) or end > today():
        return f"Dates must be within the last {MAX_AGE_DAYS} days."
    return None


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def daily_summary(day: date) -> dict[str, int | str]:
    key = day.strftime("%Y%m%d")
    transfer = 1_000_000_000 + _number("transfer", key) % 9_000_000_000
    return {
        "date": key,
        "transfer": transfer,
        "traffic": transfer * 8 // 86400,
        "storage": 50_000_000_000 + _number("storage", key) % 1_000_000_000,
        "transcoding_count": _number("tc", key) % 20,
        "transcoding_size": _number("ts", key) % 5_000_000_000,
        "unique_visitors": 100 + _number("uv", key) % 900,
    }


def daily_views(upload_file_key: str, day: date) -> int:
    return _number("views", upload_file_key, day.strftime("%Y%m%d")) % 50


def daily_play_time(upload_file_key: str, day: date) -> int:
    return daily_views(upload_file_key, day) * (30 + _number("pt", upload_file_key) % 600)
