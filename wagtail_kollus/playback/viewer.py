"""Who watches: the viewer of a player, at render time and again when Kollus asks to play.

The play callback has no request of the viewer's: Kollus calls it from its own servers with
the ``cuid`` of the token and the player URL's ``uservalue``s. So what a policy needs to know
about the viewer travels in the player URL as a **play context** (:func:`sign_play_context`):
the viewer id, the user's pk, the page the player was rendered for, the media content key and
the page passwords the viewer had given, signed with ``SECRET_KEY`` and valid as long as the
token (``PLAYER_TOKEN_LIFETIME``). It is readable (nothing in it is a secret: the viewer's
own pk, a page id) but cannot be changed or reused for another viewer or video, and a copy
replayed after the token expired is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.utils.crypto import salted_hmac

from ..conf import kollus_settings

# The session key where Wagtail remembers the page passwords a visitor gave
# (PageViewRestriction.passed_view_restrictions_session_key).
PASSED_PAGE_PASSWORDS_SESSION_KEY = "passed_page_view_restrictions"
_PLAY_CONTEXT_SALT = "wagtail_kollus.playback.play-context"
_VIEWER_ID_SALT = "wagtail_kollus.playback.viewer-id"


def user_viewer_id(user_pk: Any) -> str:
    """The ``cuid`` of a signed-in user: ``"user-"`` + an HMAC of the pk.

    Stable (the same user is the same viewer on every device, for Kollus's statistics and
    resume points) and not guessable: knowing a pk does not give the cuid, so nobody can play
    or count streams as someone else by editing a number. Keyed with ``VIEWER_ID_KEY``, or
    ``SECRET_KEY`` when that is empty.
    """
    secret = kollus_settings.VIEWER_ID_KEY or None
    digest = salted_hmac(_VIEWER_ID_SALT, str(user_pk), secret=secret, algorithm="sha256")
    return "user-" + digest.hexdigest()[:24]


@dataclass(frozen=True)
class Viewer:
    """What a playback policy knows about the person in front of the player.

    ``user_id`` is ``None`` for an anonymous viewer. ``request`` is there at render time and
    at the token endpoint, and ``None`` in the play callback (Kollus's request is not the
    viewer's). ``passed_passwords``: ids of the page-password restrictions the viewer gave.
    """

    cuid: str
    user_id: int | None = None
    passed_passwords: frozenset[int] = field(default_factory=frozenset)
    request: Any = field(default=None, compare=False, repr=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def user(self) -> Any:
        """The user (``None`` if anonymous): the request's, or read once by pk."""
        if self.user_id is None:
            return None
        request_user = getattr(self.request, "user", None)
        if request_user is not None and getattr(request_user, "pk", None) == self.user_id:
            return request_user
        cached = self.__dict__.get("_user")
        if cached is None:
            from django.contrib.auth import get_user_model

            cached = get_user_model()._default_manager.filter(pk=self.user_id).first()
            object.__setattr__(self, "_user", cached)
        return cached

    @classmethod
    def from_request(cls, request: Any, cuid: str) -> Viewer:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
        session = getattr(request, "session", None)
        passed: Iterable[Any] = ()
        if session is not None:
            passed = session.get(PASSED_PAGE_PASSWORDS_SESSION_KEY) or ()
        return cls(
            cuid=cuid,
            user_id=user_id,
            passed_passwords=frozenset(int(pk) for pk in passed if str(pk).isdigit()),
            request=request,
        )


@dataclass(frozen=True)
class PlayContext:
    """A verified play context: the viewer and what they were given a player for."""

    viewer: Viewer
    page_id: int | None
    media_content_key: str
    page_path: str = ""  # Wagtail's tree path when signed (the page may have moved since)
    # The video's own key when the player plays a lesson's extension of it ({key}-{lesson}):
    # what policies, progress and the mirror know the video by.
    base_media_content_key: str = ""

    @property
    def video_key(self) -> str:
        return self.base_media_content_key or self.media_content_key


class InvalidPlayContext(ValueError):
    """Missing, altered, expired, or not for this viewer or video. Never shown to anyone."""


def sign_play_context(
    viewer: Viewer,
    page_id: int | None,
    media_content_key: str,
    *,
    page_path: str = "",
    base_media_content_key: str = "",
) -> str:
    """The signed play context for one player URL (``PLAY_CONTEXT_USERVALUE``).

    ``page_path``: the page's tree path, so the play callback finds the page's restrictions
    by index without reading the page (a page moved within the token's lifetime is judged
    where it was). ``media_content_key`` is the key the player plays (and Kollus reports);
    ``base_media_content_key`` the video's own key when that is a lesson's extension of it.
    """
    data: dict[str, Any] = {"c": viewer.cuid, "k": media_content_key}
    if base_media_content_key and base_media_content_key != media_content_key:
        data["b"] = base_media_content_key
    if viewer.user_id is not None:
        data["u"] = viewer.user_id
    if page_id is not None:
        data["g"] = page_id
        if page_path:
            data["p"] = page_path
    if viewer.passed_passwords:
        data["r"] = sorted(viewer.passed_passwords)
    # Not compressed: zlib saves nothing on a context without a page (Django then keeps the
    # plain form) and 3-30 characters of a ~200-character value with a tree path, and cost
    # about a third of signing it (~5 µs per player, on every page view). Contexts issued
    # compressed still load: signing.loads reads both forms.
    return signing.dumps(data, salt=_PLAY_CONTEXT_SALT)


def load_play_context(
    value: str, *, cuid: str, media_content_key: str, max_age: int | None = None
) -> PlayContext:
    """Verify ``value`` for the viewer and video Kollus names; raise :class:`InvalidPlayContext`.

    ``max_age``: seconds since signing it is accepted for (default: the token's lifetime; the
    LMS callback, which reports for as long as the learner watches, passes its own).
    """
    if not value or len(value) > 2000:
        raise InvalidPlayContext("no play context")
    if max_age is None:
        max_age = int(kollus_settings.PLAYER_TOKEN_LIFETIME)
    try:
        data = signing.loads(value, salt=_PLAY_CONTEXT_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError) as exc:  # SignatureExpired is a BadSignature
        raise InvalidPlayContext(type(exc).__name__) from exc
    if not isinstance(data, dict) or data.get("c") != cuid or data.get("k") != media_content_key:
        raise InvalidPlayContext("not this viewer's or not this video's")
    user_id, page_id, page_path = data.get("u"), data.get("g"), data.get("p", "")
    passed = data.get("r") or []
    base_key = data.get("b", "")
    if (
        not all(isinstance(n, int) or n is None for n in (user_id, page_id))
        or not isinstance(passed, list)
        or not isinstance(page_path, str)
        or not isinstance(base_key, str)
    ):
        raise InvalidPlayContext("malformed")
    viewer = Viewer(
        cuid=cuid,
        user_id=user_id,
        passed_passwords=frozenset(n for n in passed if isinstance(n, int)),
    )
    return PlayContext(
        viewer=viewer,
        page_id=page_id,
        media_content_key=media_content_key,
        page_path=page_path,
        base_media_content_key=base_key,
    )
