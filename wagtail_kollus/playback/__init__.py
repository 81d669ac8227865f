"""Playback, end to end: what a page shows and what the token endpoint mints.

* :mod:`.claims` — the JWT claims (viewer id, expiry, options) and the viewer id (``cuid``);
* :mod:`.jwt` — signing with PyJWT, without registered time claims;
* :mod:`.links` — the signed player URL;
* :mod:`.playable` — what a block value, a ``KollusVideo`` or a key has to play;
* :mod:`.references` — cache-safe playback's signed page references;
* :mod:`.markup` — the player's HTML (``format_html``, or a template a site names);
* :mod:`.limits` and :mod:`.views` — the token endpoint and its per-client limits.

The names below are the public API (``docs/player.md``).
"""

from .claims import build_payload, default_cuid, resolve_cuid
from .jwt import sign_token
from .links import PlayerLink, build_player_link, build_player_url, check_player_configuration
from .playable import Playable, playable_from
from .references import InvalidReference, Reference, load_reference, sign_reference

__all__ = [
    "InvalidReference",
    "Playable",
    "PlayerLink",
    "Reference",
    "build_payload",
    "build_player_link",
    "build_player_url",
    "check_player_configuration",
    "default_cuid",
    "load_reference",
    "playable_from",
    "resolve_cuid",
    "sign_reference",
    "sign_token",
]
