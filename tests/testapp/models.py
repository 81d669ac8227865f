"""Page types the test suite uses. Features add their own here."""

from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_kollus.blocks import KollusVideoBlock


class VideoPage(Page):
    """A page whose body mixes Kollus videos with text (the chooser and block tests)."""

    body = StreamField(
        [
            ("video", KollusVideoBlock()),
            ("paragraph", blocks.RichTextBlock()),
        ],
        blank=True,
    )

    content_panels = Page.content_panels + ["body"]
