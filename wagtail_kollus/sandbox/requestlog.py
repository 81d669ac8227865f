"""What the sandbox was asked, for tests that assert "this made (no) remote call"."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any
from urllib.parse import urlencode

# Query parameters that carry credentials; the log keeps their names, not their values.
SECRET_PARAMS = {"access_token", "jwt", "custom_key", "token", "key", "api_key"}
MAX_ENTRIES = 10_000


def redacted_query(pairs: list[tuple[str, str]]) -> str:
    return urlencode([(k, "[redacted]" if k in SECRET_PARAMS else v) for k, v in pairs])


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._counts: Counter[str] = Counter()

    def add(
        self, method: str, path: str, endpoint: str, pairs: list[tuple[str, str]]
    ) -> dict[str, Any]:
        entry = {
            "method": method,
            "path": path,
            "endpoint": endpoint,
            "query": redacted_query(pairs),
            "status": None,
            "at": time.time(),
        }
        with self._lock:
            self._entries.append(entry)
            self._counts[endpoint] += 1
        return entry

    def entries(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries if endpoint is None or e["endpoint"] == endpoint]

    def count(self, endpoint: str | None = None) -> int:
        with self._lock:
            if endpoint is None:
                return sum(self._counts.values())
            if endpoint.endswith(".*"):
                prefix = endpoint[:-1]
                return sum(n for name, n in self._counts.items() if name.startswith(prefix))
            return self._counts[endpoint]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
