"""The player's HTML, built once in Python: the only default markup.

As in Wagtail's own blocks (``render_basic``), the default output is written with
``format_html``, which escapes every value, rather than rendered from a template: a page may
show many players, and rendering three templates per player cost more than signing its token.
A site that wants other markup names a template — ``template=`` on the block or the tag, or the
block's ``Meta.template`` — and that template is rendered by the template engine, with the
context documented in ``docs/extending.md``.

Two templates stay, rendered by the template engine and overridable by putting a file of the
same name first in the template search path: ``player/placeholder.html`` (a video that cannot be
played, through the tag) and ``blocks/kollus_video_unavailable.html`` (the same, for the
block). They are the messages a site most often changes, and they are not on the hot path.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..accounts import KollusAccount
from ..api.errors import ConfigurationError
from ..conf import kollus_settings
from .access import player_access
from .claims import resolve_cuid
from .links import build_player_url, check_player_configuration
from .options import reference_options
from .playable import Playable, playable_from
from .references import sign_reference

logger = logging.getLogger("wagtail_kollus.player")

PLACEHOLDER_TEMPLATE = "wagtail_kollus/player/placeholder.html"
BLOCK_UNAVAILABLE_TEMPLATE = "wagtail_kollus/blocks/kollus_video_unavailable.html"
PLAYER_SCRIPT = "wagtail_kollus/js/player.js"

# The markup, written once. Every {name} is filled by format_html, which escapes it; the
# optional attributes are passed as already-escaped pieces, or as _NOTHING.
_WRAPPER_OPEN = (
    '<div class="kollus-player{css_class}"'
    ' style="position:relative;width:100%;aspect-ratio:{aspect_ratio}{max_width}"'
)
_IFRAME = (
    '<iframe class="kollus-player__frame"{src} title="{title}"{width}{height}'
    ' style="position:absolute;inset:0;width:100%;height:100%;border:0"'
    ' allow="autoplay; fullscreen; encrypted-media" allowfullscreen loading="lazy"'
    ' referrerpolicy="strict-origin-when-cross-origin"></iframe>\n'
)
# Render-time signing: the iframe's src holds a fresh, per-viewer token.
RENDER_TIME_HTML = _WRAPPER_OPEN + ">\n  " + _IFRAME.replace("{src}", ' src="{src}"') + "\n</div>\n"
# Cache-safe playback: only a signed, non-secret reference; player.js fetches the URL for the
# current viewer from the token endpoint when the player scrolls into view.
CACHE_SAFE_HTML = (
    _WRAPPER_OPEN
    + ' data-kollus-player data-kollus-reference="{reference}" data-kollus-token-url="{token_url}"'
    + '{autoplay} data-kollus-error-text="{error_text}">\n  {poster}\n  '
    + _IFRAME.replace("{src}", "")
    + '\n  <noscript><p class="kollus-player__message">{no_script}</p></noscript>\n'
    + '</div>\n<script src="{script_url}" defer></script>\n'
)
# A viewer the playback policy refuses: its message instead of a player that would not play.
REFUSED_HTML = (
    '<div class="kollus-player kollus-player--refused{css_class}" data-kollus-refused role="note">'
    '<p class="kollus-player__message">{message}</p></div>\n'
)
_NOTHING = SafeString()
_DEFAULT_ASPECT_RATIO = mark_safe("16 / 9")
_AUTOPLAY = mark_safe(" data-kollus-autoplay")


def token_url() -> str:
    """The token endpoint's URL (``wagtail_kollus:player_token``) for the current request."""
    return reverse("wagtail_kollus:player_token")


# Where a request keeps the two URLs every cache-safe player of its page shows: reverse() and
# static() answer the same for the whole request and cost more than the rest of a player's
# markup. Kept on the request (as the viewer id is), never longer: the URLconf, the script
# prefix and the static files storage may differ from one request to the next.
_URLS_ATTRIBUTE = "_wagtail_kollus_player_urls"


def _cache_safe_urls(request: Any) -> tuple[str, str]:
    """(the token endpoint's URL, the player script's URL) for the players of ``request``."""
    urls = getattr(request, _URLS_ATTRIBUTE, None)
    if urls is None:
        urls = (token_url(), static(PLAYER_SCRIPT))
        if request is not None:
            # A request-like object that takes no attributes simply looks them up every time.
            with contextlib.suppress(AttributeError):
                setattr(request, _URLS_ATTRIBUTE, urls)
    return urls


def _positive_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@dataclass(frozen=True)
class Frame:
    """What every player markup shows around the video: its title, poster and size."""

    title: str  # never empty: "Video player" when the video has none
    has_title: bool
    poster_url: str
    width: int | None
    height: int | None
    css_class: str

    @classmethod
    def for_playable(
        cls, playable: Playable | None, width: Any = None, height: Any = None, css_class: Any = ""
    ) -> Frame:
        title = playable.title if playable and playable.title else ""
        return cls(
            title=title or _("Video player"),
            has_title=bool(title),
            poster_url=playable.poster_url if playable else "",
            width=_positive_int(width),
            height=_positive_int(height),
            css_class=css_class or "",
        )

    @property
    def aspect_ratio(self) -> str:
        # The wrapper keeps the frame's shape at any width; 16:9 unless both sides are given
        # (a constant marked safe: format_html has nothing to escape in it).
        if self.width and self.height:
            return f"{self.width} / {self.height}"
        return _DEFAULT_ASPECT_RATIO

    def markup_parts(self) -> dict[str, Any]:
        """The frame's fields of the default markup, optional attributes already escaped."""
        return {
            "css_class": format_html(" {}", self.css_class) if self.css_class else _NOTHING,
            "aspect_ratio": self.aspect_ratio,
            "max_width": format_html(";max-width:{}px", self.width) if self.width else _NOTHING,
            "title": self.title,
            "width": format_html(' width="{}"', self.width) if self.width else _NOTHING,
            "height": format_html(' height="{}"', self.height) if self.height else _NOTHING,
        }

    def context(self) -> dict[str, Any]:
        """The template context of a player or placeholder template."""
        return {
            "title": self.title,
            "has_title": self.has_title,
            "poster_url": self.poster_url,
            "width": self.width,
            "height": self.height,
            "aspect_ratio": self.aspect_ratio,
            "max_width": self.width,
            "css_class": self.css_class,
        }


def render_time_html(frame: Frame, src: str) -> SafeString:
    """The default render-time player."""
    return format_html(RENDER_TIME_HTML, src=src, **frame.markup_parts())


def cache_safe_html(
    frame: Frame,
    *,
    reference: str,
    token_url: str,
    autoplay: bool,
    script_url: str | None = None,
) -> SafeString:
    """The default cache-safe player (``script_url``: ``static()`` of the player script)."""
    poster = _NOTHING
    if frame.poster_url:
        poster = format_html(
            '<img class="kollus-player__poster" src="{}" alt=""'
            ' style="position:absolute;inset:0;width:100%;height:100%;object-fit:cover">',
            frame.poster_url,
        )
    return format_html(
        CACHE_SAFE_HTML,
        reference=reference,
        token_url=token_url,
        autoplay=_AUTOPLAY if autoplay else _NOTHING,
        error_text=_("This video cannot be played right now. Please reload the page."),
        poster=poster,
        no_script=_("Please enable JavaScript to play this video."),
        script_url=static(PLAYER_SCRIPT) if script_url is None else script_url,
        **frame.markup_parts(),
    )


def refused_html(frame: Frame, message: str) -> SafeString:
    """The block a refused viewer sees: the policy's message."""
    return format_html(
        REFUSED_HTML, message=message, css_class=frame.markup_parts()["css_class"]
    )


def _placeholder(frame: Frame, request: Any) -> SafeString:
    return render_to_string(PLACEHOLDER_TEMPLATE, frame.context(), request=request)


def render_player(
    value: Any,
    *,
    request: Any = None,
    page: Any = None,
    cache_safe: bool | None = None,
    width: Any = None,
    height: Any = None,
    css_class: Any = "",
    template: str | None = None,
    account: KollusAccount | None = None,
) -> SafeString:
    """The HTML of ``{% kollus_player %}``, usable from Python (e.g. an API serializer).

    Never raises for visitors: a video that cannot be played, or a plugin that is not
    configured, renders the placeholder and logs a warning that says why. ``template`` names
    a template to render instead of the default markup (not for the placeholder).

    ``page``: the page the player is on, whose privacy the playback policy follows
    (``docs/selling-courses.md``). Render-time signing asks the policy now, and a refused
    viewer gets its message instead of a player; cache-safe playback asks at the token
    endpoint, for the viewer who asks.

    ``account``: whose keys sign the player URL (by default the settings' account).
    """
    playable = playable_from(value)
    frame = Frame.for_playable(playable, width, height, css_class)
    if playable is None or not playable.is_playable:
        return _placeholder(frame, request)
    if cache_safe is None:
        cache_safe = bool(kollus_settings.CACHE_SAFE_PLAYBACK)
    script_url = ""
    try:
        if cache_safe:
            # Signing happens later, at the token endpoint.
            check_player_configuration(account)
            endpoint_url, script_url = _cache_safe_urls(request)
            mode: dict[str, Any] = {
                "reference": sign_reference(
                    playable,
                    page_id=getattr(page, "pk", None),
                    player_options=reference_options(playable.player_options, page),
                ),
                "token_url": endpoint_url,
                "autoplay": bool(playable.url_params.get("autoplay")),
            }
        else:
            cuid = resolve_cuid(request)
            access = player_access(
                request,
                cuid,
                page,
                playable.media_content_key,
                playable.mc_options,
                playable.url_params,
                playable.player_options,
                resume=playable.resume,
                allows_key_extension=playable.allows_key_extension,
            )
            if not access.decision.plays:
                return refused_html(frame, access.decision.message)
            mode = {
                "src": build_player_url(
                    access.media_content_key,
                    cuid,
                    mc_options=access.mc_options,
                    url_params=access.url_params,
                    claims=access.claims,
                    intro_media_content_key=access.intro_media_content_key,
                    account=account,
                )
            }
    except ConfigurationError as exc:
        logger.warning("Kollus player shown as a placeholder: %s", exc)
        return _placeholder(frame, request)
    except NoReverseMatch:
        logger.warning(
            "Kollus player shown as a placeholder: cache-safe playback needs the plugin's URLs; "
            'add path("kollus/", include("wagtail_kollus.urls")) to your URLconf.'
        )
        return _placeholder(frame, request)
    except (TypeError, ValueError) as exc:
        # A malformed key or block option: a content problem, not a reason for a 500.
        logger.warning(
            "Kollus player for %r shown as a placeholder: %s", playable.media_content_key, exc
        )
        return _placeholder(frame, request)
    if template:
        context = {
            **frame.context(),
            **mode,
            "cache_safe": cache_safe,
            "player_script_url": script_url,
            "value": value,
        }
        return render_to_string(template, context, request=request)
    if cache_safe:
        return cache_safe_html(frame, **mode, script_url=script_url)
    return render_time_html(frame, mode["src"])


def render_block(
    value: Any, context: dict[str, Any] | None, *, account: KollusAccount | None = None
) -> SafeString:
    """``KollusVideoBlock``'s default HTML (its ``render_basic``): the player in a
    ``kollus-video`` wrapper, or the unavailable notice. ``context`` is the block's context
    (for a playable value, only its ``request`` and ``page`` are read)."""
    request = context.get("request") if context else None
    if getattr(value, "is_playable", False):
        page = context.get("page") if context else None
        player = render_player(value, request=request, page=page, account=account)
        if kollus_settings.BLOCK_STRUCTURED_DATA:
            from ..structured_data import video_jsonld  # late: it asks the playback policy

            player += video_jsonld(value, page=page, request=request)
        # The player is markup already escaped by format_html: nothing to escape again.
        return mark_safe(f'<div class="kollus-video">{player}</div>\n')  # noqa: S308
    notice = render_to_string(BLOCK_UNAVAILABLE_TEMPLATE, context or {"value": value})
    return format_html("{}\n", notice)
