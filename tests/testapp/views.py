"""Plain views the browser tests use, so they do not depend on page models or the chooser."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.views.decorators.cache import cache_page
from wagtail.models import Page

from wagtail_kollus.models import KollusVideo

# Rendered per cache miss only: ``rendered`` changes on every real render, so a test can tell a
# cached response from a fresh one.
CACHED_PLAYER_PAGE = """<!DOCTYPE html>{% load kollus %}
<html><head><meta charset="utf-8"><title>Cached player page</title></head>
<body data-rendered="{{ rendered }}">
<main style="max-width:800px">{% kollus_player video|default:key cache_safe=True %}</main>
</body></html>"""


@cache_page(3600, key_prefix="wagtail_kollus_tests_cached_player")
def cached_player_page(request: HttpRequest) -> HttpResponse:
    """A page with a cache-safe player, behind Django's per-view cache.

    ``?key=<mckey>`` plays a media content key; ``?video=<pk>`` a chosen ``KollusVideo`` row;
    ``?page=<pk>``: the page whose privacy the playback policy follows (as a CDN would serve a
    lesson page's cached copy to anyone, the view itself checks nothing).
    """
    template = engines["django"].from_string(CACHED_PLAYER_PAGE)
    video_id = request.GET.get("video", "")
    video = KollusVideo.objects.filter(pk=video_id).first() if video_id.isdigit() else None
    page_id = request.GET.get("page", "")
    page = Page.objects.filter(pk=page_id).first() if page_id.isdigit() else None
    context = {
        "key": request.GET.get("key", ""),
        "video": video,
        "page": page,
        "rendered": uuid.uuid4().hex,
    }
    return HttpResponse(template.render(context, request))
