"""Short-lived caching of contents API answers for the chooser.

Editors open the same modal many times while writing one page; the list of contents barely
changes in a minute. Every key embeds ``CACHE_VERSION`` so that bumping that one setting makes
every cached answer unreachable at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches

from ..conf import kollus_settings

T = TypeVar("T")

KEY_PREFIX = "wagtail_kollus:chooser"


def cache_key(kind: str, params: dict[str, Any], api_url: str) -> str:
    """A stable key for one remote call; params are hashed so keys stay short and safe."""
    # The API base URL is part of the key: two sites (or accounts) sharing a cache must not
    # see each other's rows.
    material = json.dumps({"url": api_url, "params": params}, sort_keys=True, default=str)
    digest = hashlib.sha256(material.encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:v{kollus_settings.CACHE_VERSION}:{kind}:{digest}"


def cached_call(kind: str, params: dict[str, Any], fetch: Callable[[], T], *, api_url: str) -> T:
    """Return the cached answer for ``(kind, params)`` of the contents API at ``api_url``, or
    call ``fetch`` and cache it.

    Errors are never cached: the next attempt (the editor's "Retry") must reach the API.
    """
    timeout = kollus_settings.CHOOSER_CACHE_TIMEOUT
    if not timeout:
        return fetch()
    cache = caches[kollus_settings.CACHE_ALIAS]
    key = cache_key(kind, params, api_url)
    found = cache.get(key)
    if found is not None:
        return found
    value = fetch()
    cache.set(key, value, timeout)
    return value
