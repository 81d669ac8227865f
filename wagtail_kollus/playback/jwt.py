"""Signing a Kollus player token with PyJWT.

Kollus verifies an HS256 JWT signed with the account's security key. PyJWT writes it: header
``{"alg":"HS256","typ":"JWT"}``, compact JSON claims, nothing added (``jwt.encode`` sets no
``iat``/``exp`` of its own). The one rule PyJWT would not enforce is Kollus's: the token must
carry **no registered time claims**, so they are refused here before signing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

from .claims import REGISTERED_TIME_CLAIMS, require_setting

ALGORITHM = "HS256"


def sign_token(payload: Mapping[str, Any], *, key: str | None = None) -> str:
    """``payload`` as a compact HS256 JWS, signed with ``key`` (default: the security key)."""
    forbidden = sorted(name for name in REGISTERED_TIME_CLAIMS if name in payload)
    if forbidden:
        # A generic JWT library would happily sign them, and Kollus may then refuse to play.
        raise ValueError(f"Kollus tokens must not carry registered claims: {forbidden}")
    if key is None:
        key = require_setting("KOLLUS_SECURITY_KEY", "signing player tokens")
    return jwt.encode(dict(payload), key, algorithm=ALGORITHM)
