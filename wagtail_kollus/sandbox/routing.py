"""Routes: method + path template → endpoint name (the key faults and the request log use)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Route:
    method: str
    template: str
    endpoint: str
    handler: Callable[[Any, Any], Any]
    auth: str | None = None  # "contents" (bearer key), "kollus" (access_token) or None
    control: bool = False  # /_sandbox/...: never logged, never faulted
    summary: str = ""  # one line for the index page's control API table
    pattern: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        regex = _PARAM.sub(
            lambda m: f"(?P<{m.group(1)}>[^/]+)",
            re.escape(self.template).replace(r"\{", "{").replace(r"\}", "}"),
        )
        self.pattern = re.compile(f"^{regex}/?$")


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """→ (route, params, path_matched_other_method)."""
        other_method = False
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict(), False
            other_method = True
        return None, {}, other_method
