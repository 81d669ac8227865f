"""The example site's page types: one per way of using wagtail-kollus."""

from __future__ import annotations

from django.db import models
from django.views.decorators.cache import cache_page
from wagtail import blocks
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.learners.panels import ProgressPanel
from wagtail_kollus.sync import ChapterGrouping, ContentMapping, register_sync

# A day: long enough to show that cache-safe players keep playing on a stale page.
CACHED_PAGE_SECONDS = 24 * 60 * 60


class HomePage(Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + ["intro"]
    subpage_types = ["videos.VideoPage", "videos.CachedVideoPage", "videos.CoursePage"]


class VideoPage(Page):
    """Videos with text; players are signed when the page is rendered (never cached)."""

    body = StreamField(
        [
            ("video", KollusVideoBlock()),
            ("paragraph", blocks.RichTextBlock()),
        ],
        blank=True,
    )

    # The learners' progress on this page, for editors who may see it (docs/progress-reports.md).
    content_panels = Page.content_panels + ["body", ProgressPanel()]
    parent_page_types = ["videos.HomePage"]
    api_fields = [APIField("body")]  # /api/v2/pages/<id>/ (docs/headless.md)


class CachedVideoPage(VideoPage):
    """Served from Django's cache for a day. Its template asks for cache-safe players: the
    HTML holds only a signed reference and the browser fetches a fresh player URL."""

    template = "videos/cached_video_page.html"
    parent_page_types = ["videos.HomePage"]

    def serve(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            # Editors previewing their own session are not cached.
            return super().serve(request, *args, **kwargs)

        def render(req):
            return super(CachedVideoPage, self).serve(req, *args, **kwargs)

        return cache_page(CACHED_PAGE_SECONDS, key_prefix=f"page-{self.pk}")(render)(request)


class CoursePage(Page):
    """A course sold on the contents site: publishing it creates/updates its content record."""

    intro = RichTextField(blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    base_price = models.PositiveIntegerField(default=0)
    body = StreamField(
        [
            ("heading", blocks.CharBlock()),
            ("video", KollusVideoBlock()),
            ("paragraph", blocks.RichTextBlock()),
        ],
        blank=True,
    )

    content_panels = Page.content_panels + ["intro", "image", "base_price", "body"]
    parent_page_types = ["videos.HomePage"]


@register_sync(CoursePage)
class CourseMapping(ContentMapping):
    """Intro as the description, headings start chapters, and one extra field (the price)."""

    description_field = "intro"
    image_field = "image"
    chapter_grouping = ChapterGrouping.BY_HEADING
    fields = (*ContentMapping.fields, "base_price")

    def get_base_price(self, page: CoursePage) -> int:
        return page.base_price
