"""Time formats of both APIs: ISO 8601 UTC with microseconds (contents) and unix seconds (Kollus)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> float:
    return time.time()
