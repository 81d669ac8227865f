"""Page types the test suite uses. Features add their own here."""

from wagtail import blocks
from wagtail.api import APIField
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_kollus.blocks import KollusVideoBlock
from wagtail_kollus.learners.panels import ProgressPanel

try:  # the optional [graphql] extra
    from grapple.models import GraphQLStreamfield
except ImportError:
    GraphQLStreamfield = None


class VideoPage(Page):
    """A page whose body mixes Kollus videos with text (the chooser and block tests)."""

    body = StreamField(
        [
            ("video", KollusVideoBlock()),
            ("paragraph", blocks.RichTextBlock()),
        ],
        blank=True,
    )

    content_panels = Page.content_panels + ["body", ProgressPanel()]
    # The headless tests read the videos through Wagtail's API v2 (tests/test_headless_api.py).
    api_fields = [APIField("body")]
    # ... and through wagtail-grapple, where it is installed (tests/test_headless_graphql.py).
    graphql_fields = [GraphQLStreamfield("body")] if GraphQLStreamfield else []


# --- page → content record sync (tests/test_sync*.py) ---------------------------------------
from django.db import models  # noqa: E402
from wagtail.fields import RichTextField  # noqa: E402

from wagtail_kollus.sync import ChapterGrouping, ContentMapping, register_sync  # noqa: E402


class CoursePage(Page):
    """A course sold on the contents site: one content record per page, chapters from videos."""

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


@register_sync(CoursePage)
class CourseMapping(ContentMapping):
    """Shows the documented extension points: a chosen field, grouping and an extra field."""

    description_field = "intro"
    image_field = "image"
    chapter_grouping = ChapterGrouping.BY_HEADING
    fields = (*ContentMapping.fields, "base_price")

    def get_base_price(self, page: CoursePage) -> int:
        return page.base_price
