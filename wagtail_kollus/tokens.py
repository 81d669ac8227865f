"""A small HS256 JSON Web Token signer for the player tokens a page signs per video block.

PyJWT is general (many algorithms, header validation, key-type checks) and costs tens of
microseconds per token, which is most of a page's render time when it shows many videos. Kollus
tokens are always HS256 with a fixed header, so here the header segment is encoded once and a
token is one compact JSON dump, one HMAC-SHA256 and base64url. The bytes are exactly what
``jwt.encode(payload, key, algorithm="HS256")`` produces (same header, same separators), and
the tests decode every token with PyJWT.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

ALGORITHM = "HS256"


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64url(data: bytes) -> bytes:
    # base64.urlsafe_b64encode without its two wrapper calls, padding stripped (RFC 7515).
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


# PyJWT's header for HS256, sorted and compact: {"alg":"HS256","typ":"JWT"}.
_HEADER_SEGMENT = _b64url(b'{"alg":"HS256","typ":"JWT"}') + b"."
# Compact separators, ASCII-only output: what PyJWT writes for the claims.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


@lru_cache(maxsize=4)
def _keyed_hmac(key: str) -> hmac.HMAC:
    # Keying HMAC (hashing the padded key) is half its cost for a short message; each token
    # copies this keyed state instead. A handful of keys at most: the setting changes rarely.
    return hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)


def sign_hs256(payload: Mapping[str, Any], key: str) -> str:
    """``payload`` as a compact JWS: ``base64url(header).base64url(claims).base64url(mac)``.

    Adds nothing to ``payload`` (no ``iat``/``exp``): callers decide every claim.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("An HS256 token needs a non-empty key.")
    claims = payload if type(payload) is dict else dict(payload)
    signing_input = _HEADER_SEGMENT + _b64url(_COMPACT_JSON.encode(claims).encode("ascii"))
    mac = _keyed_hmac(key).copy()
    mac.update(signing_input)
    return (signing_input + b"." + _b64url(mac.digest())).decode("ascii")
