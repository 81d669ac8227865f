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


_BLOCK_SIZE = 64  # SHA-256's block size, in bytes
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


@lru_cache(maxsize=4)
def _keyed_states(key: str) -> tuple[Any, Any]:
    """SHA-256 states that have absorbed the padded key (RFC 2104), for HMAC by copying.

    Keying HMAC costs as much as hashing a short token, and ``hmac.HMAC.copy()`` goes through
    Python; copying two hashlib states is a third of the time. A handful of keys at most: the
    setting changes rarely.
    """
    secret = key.encode("utf-8")
    if len(secret) > _BLOCK_SIZE:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(_BLOCK_SIZE, b"\0")
    return (
        hashlib.sha256(secret.translate(_INNER_PAD)),
        hashlib.sha256(secret.translate(_OUTER_PAD)),
    )


def _hmac_sha256(key: str, message: bytes) -> bytes:
    inner_state, outer_state = _keyed_states(key)
    inner = inner_state.copy()
    inner.update(message)
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.digest()


def sign_hs256(payload: Mapping[str, Any], key: str) -> str:
    """``payload`` as a compact JWS: ``base64url(header).base64url(claims).base64url(mac)``.

    Adds nothing to ``payload`` (no ``iat``/``exp``): callers decide every claim.
    """
    claims = payload if type(payload) is dict else dict(payload)
    return sign_hs256_json(_COMPACT_JSON.encode(claims).encode("ascii"), key)


def sign_hs256_json(claims: bytes, key: str) -> str:
    """Sign claims already written as compact ASCII JSON (what ``sign_hs256`` writes).

    For callers that write the JSON themselves because most of it is the same every time
    (``wagtail_kollus.block_player``); the tests decode their tokens with PyJWT.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("An HS256 token needs a non-empty key.")
    signing_input = _HEADER_SEGMENT + _b64url(claims)
    return (signing_input + b"." + _b64url(_hmac_sha256(key, signing_input))).decode("ascii")
