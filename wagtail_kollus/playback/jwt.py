"""Signing a Kollus player token with PyJWT.

Kollus verifies an HS256 JWT signed with the account's security key. PyJWT writes it: header
``{"alg":"HS256","typ":"JWT"}``, compact JSON claims, nothing added. The one rule PyJWT would
not enforce is Kollus's: the token must carry **no registered time claims**, so they are
refused here before signing.

PyJWT's JWS layer (``jwt.PyJWS``) signs, with PyJWT's own HS256 (``HMACAlgorithm``). The one
thing done once per key instead of once per token is ``HMACAlgorithm.prepare_key``: it makes
sure the secret is not an asymmetric key or a JWK by trying to parse it as DER, PEM, SSH and
JSON, which cost about as much as the rest of signing together (a page signs a token per
player). Its result depends on the key alone, so it is remembered per key string
(:func:`prepared_key`), as the viewer-id resolver's import is; nothing else is kept. The
claims are the compact JSON PyJWT's ``jwt.encode`` writes (``tests/test_playback_jwt.py``
checks every byte against the JWS specification).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from ..accounts import KollusAccount
from .claims import REGISTERED_TIME_CLAIMS, require_setting

ALGORITHM = "HS256"


@dataclass(frozen=True)
class PreparedKey:
    """An HMAC secret PyJWT has already checked and turned into bytes (``prepare_key``)."""

    secret: bytes = field(repr=False)


class _PreparedKeyHS256(HMACAlgorithm):
    """PyJWT's HS256, which also takes a :class:`PreparedKey` and then skips preparing it."""

    def prepare_key(self, key: Any) -> bytes:
        if isinstance(key, PreparedKey):
            return key.secret
        return super().prepare_key(key)


_HS256 = _PreparedKeyHS256(HMACAlgorithm.SHA256)
_JWS = jwt.PyJWS(algorithms=[])
_JWS.register_algorithm(ALGORITHM, _HS256)
# What jwt.encode writes for the claims: json.dumps(claims, separators=(",", ":")), UTF-8.
_CLAIMS_JSON = json.JSONEncoder(separators=(",", ":"))


@lru_cache(maxsize=8)
def prepared_key(key: str | bytes) -> PreparedKey:
    """``key`` checked and prepared by PyJWT, once per key (a pure function of the key)."""
    return PreparedKey(_HS256.prepare_key(key))


def sign_token(
    payload: Mapping[str, Any], *, key: str | None = None, account: KollusAccount | None = None
) -> str:
    """``payload`` as a compact HS256 JWS, signed with ``key`` (default: the security key of
    ``account``, itself by default the settings' account)."""
    if not payload.keys().isdisjoint(REGISTERED_TIME_CLAIMS):
        # A generic JWT library would happily sign them, and Kollus may then refuse to play.
        forbidden = sorted(name for name in REGISTERED_TIME_CLAIMS if name in payload)
        raise ValueError(f"Kollus tokens must not carry registered claims: {forbidden}")
    if key is None:
        key = require_setting("KOLLUS_SECURITY_KEY", "signing player tokens", account)
    # build_payload's dict is encoded as it is; another mapping becomes one for the encoder.
    claims = payload if type(payload) is dict else dict(payload)
    encoded = _CLAIMS_JSON.encode(claims).encode("utf-8")
    return _JWS.encode(encoded, prepared_key(key), algorithm=ALGORITHM)
