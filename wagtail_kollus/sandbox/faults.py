"""Fault injection, per endpoint name (``contents.list``, ``kollus.media_detail``, …), per API
(``contents.*``, ``kollus.*``: every endpoint of that API, e.g. a whole outage) or ``*``.

A fault is a small recipe applied around the real handler:

- ``latency``: sleep before handling (seconds);
- ``status`` (+ ``retry_after``): answer with that status instead of handling;
- ``body``: ``"malformed_json"``, ``"html"`` or ``"empty"`` (with ``status``, or 200 alone);
- ``reset``: drop the socket without any answer;
- ``times``: apply only to the next N matching requests, then disappear ("fail N times, then
  succeed"); unset means every request;
- ``after``: let the next N matching requests through untouched first ("fail after K pages");
- ``commit_then_timeout``: run the handler (so e.g. the record IS created), then sleep this long
  before answering — longer than the client's read timeout, so the client sees a timeout for a
  write that happened.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

BODY_KINDS = ("malformed_json", "html", "empty")


@dataclass
class Fault:
    latency: float = 0.0
    status: int | None = None
    retry_after: int | float | str | None = None
    body: str | None = None
    reset: bool = False
    times: int | None = None
    commit_then_timeout: float | None = None
    after: int | None = None

    def __post_init__(self) -> None:
        if self.body is not None and self.body not in BODY_KINDS:
            raise ValueError(f"body must be one of {', '.join(BODY_KINDS)}")
        if self.status is not None and not (100 <= int(self.status) <= 599):
            raise ValueError("status must be an HTTP status code")
        if self.times is not None and int(self.times) < 1:
            raise ValueError("times must be at least 1")
        if self.after is not None and int(self.after) < 0:
            raise ValueError("after must be at least 0")
        if float(self.latency) < 0:
            raise ValueError("latency must be >= 0")

    @property
    def replaces_answer(self) -> bool:
        return self.reset or self.status is not None or self.body is not None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False, 0.0)}


FAULT_FIELDS = tuple(Fault.__dataclass_fields__)


class FaultRegistry:
    """Thread-safe map endpoint → fault. ``take`` consumes one use of a counted fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}

    def set(self, endpoint: str, **fault: Any) -> Fault:
        unknown = set(fault) - set(FAULT_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        value = Fault(**fault)
        with self._lock:
            self._faults[endpoint] = value
        return value

    def clear(self, endpoint: str | None = None) -> None:
        with self._lock:
            if endpoint is None:
                self._faults.clear()
            else:
                self._faults.pop(endpoint, None)

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            family = endpoint.partition(".")[0] + ".*"
            for key in (endpoint, family, "*"):
                fault = self._faults.get(key)
                if fault is None:
                    continue
                if fault.after:
                    fault.after -= 1
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._faults[key]
                return Fault(**{**asdict(fault), "times": None, "after": None})
        return None

    def as_dict(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {key: fault.as_dict() for key, fault in self._faults.items()}
