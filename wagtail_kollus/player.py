"""Compatibility: ``wagtail_kollus.player`` is where playback's public functions used to live.

They live in :mod:`wagtail_kollus.playback` now; these names keep working for sites that
import them from here or name ``wagtail_kollus.player.default_cuid`` in ``CUID_RESOLVER``.
"""

from .playback import (  # noqa: F401
    InvalidReference,
    Playable,
    PlayerLink,
    Reference,
    build_payload,
    build_player_link,
    build_player_url,
    check_player_configuration,
    default_cuid,
    load_reference,
    playable_from,
    resolve_cuid,
    sign_reference,
    sign_token,
)
from .playback.claims import ANONYMOUS_CUID_SESSION_KEY, clean_mc_options  # noqa: F401
from .playback.links import clean_url_params, seconds_until  # noqa: F401
