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

register = template.Library()

__all__ = ["kollus_player", "render_player", "token_url"]


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
