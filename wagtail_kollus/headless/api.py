"""Wagtail's API v2 pages endpoint, ready for the video block's per-viewer ``player``.

Register it instead of Wagtail's ``PagesAPIViewSet`` (``docs/headless.md``)::

    api_router.register_endpoint("pages", KollusPagesAPIViewSet)

It does two things Wagtail's own endpoint cannot know to do:

* it tells each block which page it is on, so the playback policy decides for that page (and
  the cache-safe reference names it for the token endpoint);
* a response holding a player URL or refusal for the requesting viewer is marked
  ``Cache-Control: private, no-store`` and ``Vary: Cookie``, so no CDN or proxy serves one
  viewer's URL to another, and a new anonymous viewer id is kept in the token endpoint's
  signed cookie (no session row per API call).

A site with its own endpoint class adds :class:`KollusPlayerAPIMixin` in front of it.
"""

from __future__ import annotations

from typing import Any

from django.utils.cache import add_never_cache_headers, patch_vary_headers
from wagtail.api.v2.serializers import PageSerializer
from wagtail.api.v2.views import PagesAPIViewSet

from ..playback.views import remember_new_viewer
from .player import answered_per_viewer

# Where the serializer context holds the page being serialised (what blocks read).
PAGE_CONTEXT_KEY = "page"


class KollusPageSerializer(PageSerializer):
    """Puts the page being serialised in the context its StreamField blocks receive."""

    def to_representation(self, instance: Any) -> Any:
        # The context is one dict for the whole listing: set the page for this one, and put
        # back what was there (a nested page serializer shares the dict too).
        previous = self.context.get(PAGE_CONTEXT_KEY)
        self.context[PAGE_CONTEXT_KEY] = instance
        try:
            return super().to_representation(instance)
        finally:
            self.context[PAGE_CONTEXT_KEY] = previous


class KollusPlayerAPIMixin:
    """For a pages endpoint class of the site's own: ``class Pages(KollusPlayerAPIMixin,
    PagesAPIViewSet)``. Its ``base_serializer_class`` must be (or derive from)
    :class:`KollusPageSerializer`."""

    base_serializer_class = KollusPageSerializer

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if answered_per_viewer(request):
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
            remember_new_viewer(request, response)
        return response


class KollusPagesAPIViewSet(KollusPlayerAPIMixin, PagesAPIViewSet):
    """Wagtail's pages endpoint with per-viewer video players."""
