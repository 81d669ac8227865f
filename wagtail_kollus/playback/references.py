"""Cache-safe playback's signed page references: what a cached page holds instead of a token.

A reference binds a media content key, the JWT options and the player options (and the chosen
video's id) with ``SECRET_KEY`` through ``django.core.signing``. It is readable — the media
content key is not a secret — but not changeable: the token endpoint refuses one that was
altered, that is older than ``PLAYER_REFERENCE_MAX_AGE``, or whose video no longer plays that
key. It holds no key and no token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.utils.translation import gettext as _

from ..conf import kollus_settings
from .claims import clean_mc_options, clean_media_content_key
from .links import clean_url_params
from .playable import Playable

# The historical salt: references in pages cached before playback/ existed must still load.
REFERENCE_SALT = "wagtail_kollus.player.reference"


class _ReferenceSigner(signing.TimestampSigner):
    """A TimestampSigner whose clock can be set, so tests can sign "a day ago"."""

    def __init__(self, *, now: float | None = None) -> None:
        super().__init__(salt=REFERENCE_SALT)
        self._now = now

    def timestamp(self) -> str:
        if self._now is None:
            return super().timestamp()
        return signing.b62_encode(int(self._now))


def sign_reference(
    playable: Playable,
    *,
    page_id: int | None = None,
    now: float | None = None,
    player_options: Mapping[str, Any] | None = None,
) -> str:
    """A signed, non-secret reference to put in page HTML instead of a token.

    ``page_id``: the page the player is on, whose privacy the token endpoint asks about.
    ``player_options``: the block's choices (default: the playable's), e.g. which code the
    watermark shows — never the code itself, which the token endpoint writes for its viewer.

    Changing the key or any option invalidates it, so a reference cannot be turned into
    tokens for another video or other options.
    """
    data: dict[str, Any] = {
        "k": clean_media_content_key(playable.media_content_key),
        "o": clean_mc_options(playable.mc_options),
        "p": clean_url_params(playable.url_params),
    }
    if playable.video_id is not None:
        data["v"] = playable.video_id
    if page_id is not None:
        data["g"] = page_id
    chosen = playable.player_options if player_options is None else player_options
    if chosen:
        data["w"] = dict(chosen)  # only when set: references without options stay as they were
    # Only when not the default, so references signed before progress existed stay equal.
    if not playable.resume:
        data["nr"] = 1
    if playable.allows_key_extension:
        data["x"] = 1
    return _ReferenceSigner(now=now).sign_object(data, compress=True)


class InvalidReference(ValueError):
    """A reference is malformed, tampered with, or older than ``PLAYER_REFERENCE_MAX_AGE``."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Reference:
    media_content_key: str
    mc_options: dict[str, Any]
    url_params: dict[str, str]
    video_id: int | None
    page_id: int | None = None
    player_options: dict[str, Any] = field(default_factory=dict)
    resume: bool = True
    allows_key_extension: bool = False


def load_reference(reference: str, *, max_age: float | None = None) -> Reference:
    """Verify a reference from :func:`sign_reference`; raise :class:`InvalidReference`."""
    if not isinstance(reference, str) or not reference or len(reference) > 4096:
        raise InvalidReference(_("A player reference is required."), code="missing_reference")
    if max_age is None:
        max_age = kollus_settings.PLAYER_REFERENCE_MAX_AGE
    try:
        data = _ReferenceSigner().unsign_object(reference, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidReference(
            _("The player reference has expired; reload the page."), code="expired_reference"
        ) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidReference(
            _("The player reference is invalid."), code="invalid_reference"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        raise InvalidReference(_("The player reference is invalid."), code="invalid_reference")
    return Reference(
        media_content_key=data["k"],
        mc_options=dict(data.get("o") or {}),
        url_params=dict(data.get("p") or {}),
        video_id=data.get("v"),
        page_id=data["g"] if isinstance(data.get("g"), int) else None,
        player_options=dict(data["w"]) if isinstance(data.get("w"), dict) else {},
        resume=not data.get("nr"),
        allows_key_extension=bool(data.get("x")),
    )
