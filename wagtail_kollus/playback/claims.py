"""The claims of a Kollus player token: who watches (``cuid``), until when (``expt``), what (``mc``).

Kollus's rules (see ``docs/player.md``): **no registered claims** (``exp``/``iat``/``nbf`` may
make Kollus refuse the token); expiry is the custom integer claim ``expt``; integer options are
JSON integers and flags JSON booleans. Everything here is a plain function of its arguments and
the settings, so the block, the template tag, the token endpoint and site code (a headless
API, a mobile backend) build the same claims. The account's keys come from a
:class:`~wagtail_kollus.accounts.KollusAccount` (by default the settings' account).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..accounts import KollusAccount, default_account
from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from .viewer import user_viewer_id

REGISTERED_TIME_CLAIMS = ("exp", "iat", "nbf")

# Per-item options Kollus documents, with the JSON type each must have. Coercing here means a
# block or site that passes "120" or 1 still produces the JSON type Kollus expects.
_MC_BOOL_OPTIONS = ("seek", "disable_playrate", "disable_nscreen", "intr")
_MC_INT_OPTIONS = ("seekable_end",)
_MC_STR_OPTIONS = ("title", "mcpf", "thumbnail")
# Kollus claims the plugin sets itself: options may never override them.
_RESERVED_MC_OPTIONS = ("mckey",)

MAX_KEY_LENGTH = 100
MAX_CUID_LENGTH = 200


def require_setting(name: str, purpose: str, account: KollusAccount | None = None) -> str:
    """The account's value of the setting ``name`` (``KOLLUS_SECURITY_KEY``…), or a
    :class:`ConfigurationError` naming it. ``account``: by default the settings' account."""
    value = getattr(account or default_account(), name.lower())
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            _(
                "WAGTAIL_KOLLUS[%(name)r] is not set; it is needed for %(purpose)s. Copy it from "
                "the Kollus console (or set the WAGTAIL_KOLLUS_%(name)s environment variable)."
            )
            % {"name": name, "purpose": purpose},
            service="kollus",
        )
    return value


def clean_media_content_key(media_content_key: Any) -> str:
    if not isinstance(media_content_key, str) or not media_content_key.strip():
        raise ValueError("A media content key must be a non-empty string.")
    key = media_content_key.strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"A media content key is at most {MAX_KEY_LENGTH} characters.")
    return key


def clean_mc_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per-item options with the JSON types Kollus expects; ``None`` values are dropped.

    Options the plugin does not know (``play_section``, ``subtitle_policy``, ``drm_policy``…)
    pass through unchanged, so a site can use any option Kollus adds.
    """
    cleaned: dict[str, Any] = {}
    for name, value in (options or {}).items():
        if value is None:
            continue
        if name in _RESERVED_MC_OPTIONS:
            raise ValueError(f"{name!r} is set by the plugin and cannot be an option.")
        if name in _MC_BOOL_OPTIONS:
            cleaned[name] = bool(value)
        elif name in _MC_INT_OPTIONS:
            cleaned[name] = int(value)
        elif name in _MC_STR_OPTIONS:
            text = str(value).strip()
            if text:
                cleaned[name] = text
        else:
            cleaned[name] = value
    return cleaned


def build_payload(
    media_content_key: str,
    cuid: str,
    *,
    mc_options: Mapping[str, Any] | None = None,
    lifetime: int | None = None,
    now: float | None = None,
    claims: Mapping[str, Any] | None = None,
    intro_media_content_key: str = "",
) -> dict[str, Any]:
    """The JWT claims for one video: ``{"cuid", "expt", "mc": [{"mckey", …options}]}``.

    ``claims``: top-level claims to add (the watermark's ``video_watermarking_code_policy``);
    ``intro_media_content_key``: a video played first (an ``mc`` item with ``"intr": true``).
    """
    if not isinstance(cuid, str) or not cuid:
        raise ValueError("cuid must be a non-empty string identifying the viewer.")
    if lifetime is None:
        lifetime = int(kollus_settings.PLAYER_TOKEN_LIFETIME)
    if lifetime <= 0:
        raise ValueError("The token lifetime must be a positive number of seconds.")
    issued = time.time() if now is None else now
    item = {"mckey": clean_media_content_key(media_content_key), **clean_mc_options(mc_options)}
    items = [item]
    if intro_media_content_key:
        items.insert(0, {"mckey": clean_media_content_key(intro_media_content_key), "intr": True})
    payload: dict[str, Any] = {
        "cuid": cuid[:MAX_CUID_LENGTH],
        "expt": int(issued) + int(lifetime),
        "mc": items,
    }
    for name, value in (claims or {}).items():
        if name in payload:
            raise ValueError(f"{name!r} is set by the plugin and cannot be an added claim.")
        payload[name] = value
    return payload


# --- the viewer id (cuid) ------------------------------------------------------------------

# Session key of the random id given to an anonymous visitor.
ANONYMOUS_CUID_SESSION_KEY = "wagtail_kollus_cuid"
# The signed cookie that keeps that id for a visitor without a session (token endpoint only).
VIEWER_COOKIE = "wagtail_kollus_viewer"
VIEWER_COOKIE_SALT = "wagtail_kollus.playback.viewer"
# Where default_cuid leaves a new viewer id for the token endpoint to set as that cookie.
NEW_VIEWER_ATTRIBUTE = "_wagtail_kollus_new_viewer"


def default_cuid(request: Any, *, may_create_session: bool = True) -> str:
    """The default ``CUID_RESOLVER``.

    * a signed-in user → ``"user-<HMAC of the pk>"`` (:func:`.viewer.user_viewer_id`: stable,
      not guessable from the pk, and no e-mail address is sent to Kollus);
    * an anonymous visitor → ``"anon-<random>"`` kept in the session, so it is stable for the
      visit and per visitor even when the page HTML came from a cache;
    * ``may_create_session=False`` (the token endpoint) and a client without a session →
      ``"anon-<random>"`` kept in a signed cookie (:data:`VIEWER_COOKIE`) instead, which the
      endpoint sets: a client that sends no cookie must not cost a session row per request;
    * no session otherwise (no ``SessionMiddleware``, no request) → ``"anon-<hash>"`` of the
      client address and user agent, keyed with ``SECRET_KEY`` so it cannot be reversed to an IP.
    """
    if request is None:
        return "anonymous"
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user_viewer_id(user.pk)
    session = getattr(request, "session", None)
    if session is not None:
        cuid = session.get(ANONYMOUS_CUID_SESSION_KEY)
        if cuid:
            return str(cuid)
        # session_key is None once loading found no stored session for the client's cookie.
        if may_create_session or session.session_key:
            cuid = "anon-" + secrets.token_hex(8)
            session[ANONYMOUS_CUID_SESSION_KEY] = cuid
            return cuid
    if not may_create_session and hasattr(request, "get_signed_cookie"):
        cuid = request.get_signed_cookie(VIEWER_COOKIE, default=None, salt=VIEWER_COOKIE_SALT)
        if not cuid:
            # A client that never sends the cookie back gets a new id each time: no storage.
            cuid = "anon-" + secrets.token_hex(8)
            setattr(request, NEW_VIEWER_ATTRIBUTE, cuid)
        return cuid
    meta = getattr(request, "META", {})
    fingerprint = f"{meta.get('REMOTE_ADDR', '')}|{meta.get('HTTP_USER_AGENT', '')}"
    # sha1 explicitly: it was Django's default (6.x warns that the default will change), and
    # another algorithm would give every anonymous viewer a new cuid, splitting their statistics.
    # The salt keeps its historical name for the same reason.
    digest = salted_hmac("wagtail_kollus.player.cuid", fingerprint, algorithm="sha1").hexdigest()
    return "anon-" + digest[:16]


@lru_cache(maxsize=8)
def _import_resolver(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ConfigurationError(
            f"WAGTAIL_KOLLUS['CUID_RESOLVER'] = {path!r} cannot be imported: {exc}",
            service="kollus",
        ) from exc


# Where resolve_cuid keeps its answer on the request: (resolver, request.user, cuid).
_CUID_MEMO_ATTRIBUTE = "_wagtail_kollus_cuid"


def resolve_cuid(request: Any, *, may_create_session: bool = True) -> str:
    """The viewer id for ``request``, through the ``CUID_RESOLVER`` setting.

    The resolver is a dotted path (or a callable) taking the request and returning a string;
    an empty answer falls back to :func:`default_cuid` (which ``may_create_session`` is passed
    to). It runs once per request and viewer: a page with many players asks for the same
    viewer id once per player, and the answer is kept on the request (a new ``request.user``,
    e.g. after login, asks again).
    """
    resolver = kollus_settings.CUID_RESOLVER or default_cuid
    user = getattr(request, "user", None)  # the lazy object itself: identity, no query
    memo = getattr(request, _CUID_MEMO_ATTRIBUTE, None)
    if memo is not None and memo[0] is resolver and memo[1] is user:
        return memo[2]
    resolve = _import_resolver(resolver) if isinstance(resolver, str) else resolver
    if resolve is default_cuid:
        cuid = default_cuid(request, may_create_session=may_create_session)
    else:
        cuid = resolve(request)
        if cuid is None or cuid == "":
            cuid = default_cuid(request, may_create_session=may_create_session)
    cuid = str(cuid)
    if request is not None:
        # A request-like object that takes no attributes simply resolves every time.
        with contextlib.suppress(AttributeError):
            setattr(request, _CUID_MEMO_ATTRIBUTE, (resolver, user, cuid))
    return cuid
