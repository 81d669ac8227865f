"""The token endpoint's limits, per client and per IP, held across every process.

Fixed windows of ``PLAYER_TOKEN_RATE_WINDOW`` seconds in the ``RATE_LIMIT_CACHE``. A request
passes when it claims one of the window's ``limit`` slots (:func:`~wagtail_kollus.api.ratelimit.
claim_window_slot`, which the Kollus API limiter uses too): ``add`` is atomic on every shared
backend — including the database cache, where ``incr`` is a read then a write and parallel
requests would all read the same count. Identities are hashed, so no address is stored in the
cache in clear.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.core.cache import caches
from django.utils.crypto import salted_hmac

from ..accounts import default_account
from ..api.ratelimit import claim_window_slot
from ..conf import kollus_settings

KEY_PREFIX = "wagtail_kollus:player-token"


def seconds_over_limit(scope: str, identity: str, limit: Any) -> int | None:
    """Count one request for ``identity``; ``None`` if it may pass, else seconds to wait.

    A limit of 0 (or ``None``) switches the limit off.
    """
    if not limit:
        return None
    window = max(1, int(kollus_settings.PLAYER_TOKEN_RATE_WINDOW))
    now = time.time()
    # An explicit algorithm (Django 6.x warns that the sha1 default will change).
    digest = salted_hmac(KEY_PREFIX, identity, algorithm="sha256").hexdigest()[:32]
    window_key = f"{KEY_PREFIX}:{scope}:{digest}:{int(now // window)}"
    # The cache the account's API limits count in: one that every process shares.
    cache = caches[default_account().rate_limit_cache]
    if claim_window_slot(cache, window_key, int(limit), timeout=window + 1):
        return None
    return max(1, math.ceil(window - (now % window)))
