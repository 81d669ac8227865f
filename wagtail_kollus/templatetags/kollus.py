"""``{% load kollus %}{% kollus_player value %}``: a responsive, accessible Kollus player.

``value`` may be a ``KollusVideoValue`` (the block's value), a ``KollusVideo`` or a media
content key string. The markup comes from :mod:`wagtail_kollus.playback.markup`; rendering
never raises for visitors (a video that cannot be played, or a plugin that is not configured,
renders the placeholder and logs why).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from ..accounts import KollusAccount
from ..playback.markup import render_player, token_url
from ..structured_data import video_jsonld

register = template.Library()

__all__ = [
    "kollus_continue_watching",
    "kollus_player",
    "kollus_progress",
    "kollus_video_jsonld",
    "render_player",
    "token_url",
]


@register.simple_tag(takes_context=True)
def kollus_player(
    context: template.Context,
    value: Any,
    cache_safe: bool | None = None,
    width: Any = None,
    height: Any = None,
    css_class: str = "",
    template: str | None = None,
    account: KollusAccount | None = None,
) -> SafeString:
    """``{% kollus_player value [cache_safe=…] [width=…] [height=…] [css_class=…] [template=…] %}``.

    ``cache_safe=None`` follows the ``CACHE_SAFE_PLAYBACK`` setting; ``template`` renders the
    player with a template of your own instead of the default markup; ``account`` (a
    :class:`~wagtail_kollus.accounts.KollusAccount` from the context) signs with another
    account's keys than the settings'.
    """
    return render_player(
        value,
        request=context.get("request"),
        page=context.get("page"),
        cache_safe=cache_safe,
        width=width,
        height=height,
        css_class=css_class,
        template=template,
        account=account,
    )


@register.simple_tag(takes_context=True)
def kollus_video_jsonld(
    context: template.Context, value: Any, css_selector: str | None = None
) -> SafeString:
    """``{% kollus_video_jsonld value [css_selector=…] %}``: schema.org ``VideoObject`` JSON-LD
    (:mod:`wagtail_kollus.structured_data`); nothing for a video that cannot play.

    ``css_selector``: the element holding the player, named in the paywall markup of a video
    not everyone may watch (default ``.kollus-player``, the default markup's).
    """
    options = {"css_selector": css_selector} if css_selector else {}
    return video_jsonld(
        value, page=context.get("page"), request=context.get("request"), **options
    )


# --- learner progress (docs/progress.md) -------------------------------------------------------
def _signed_in_user_id(context: Any) -> int | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


@register.simple_tag(takes_context=True)
def kollus_progress(context: Any, page: Any) -> Any:
    """The current learner's progress on ``page``: ``{% kollus_progress page as progress %}``.

    Gives ``percent``, ``completed``, ``started``, ``videos``, ``completed_videos``,
    ``resume_seconds`` and ``resume_time`` (``"4:05"``); used bare it prints the percent.
    Anonymous visitors get zero progress (they are not tracked).
    """
    from ..progress.lessons import NO_PROGRESS, page_progress

    user_id = _signed_in_user_id(context)
    page_id = getattr(page, "pk", page)
    if user_id is None or not isinstance(page_id, int):
        return NO_PROGRESS
    return page_progress(user_id, page_id, request=context.get("request"))


@register.simple_tag(takes_context=True)
def kollus_continue_watching(context: Any, limit: int = 5) -> list[Any]:
    """The current learner's unfinished videos, most recent first:
    ``{% kollus_continue_watching 5 as items %}``; each has ``page`` (its lesson),
    ``video_title``, ``percent``, ``last_position`` and ``resume_time``. Empty for anonymous visitors."""
    from ..progress.lessons import continue_watching

    user_id = _signed_in_user_id(context)
    return [] if user_id is None else continue_watching(user_id, limit=limit)
