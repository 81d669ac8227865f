"""The chosen-video widget: the video's poster and title, with edit and preview links.

Wagtail's image chooser is the model (``wagtail/images/widgets.py`` and its
``ImageChooserWidget.js``): the value data carries a ``preview`` that the template shows on
the server and ``video-chooser-widget.js`` (a subclass of Wagtail's ``Chooser``, registered
with telepath) shows after a choice, so the widget works in forms and in StreamField alike.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.staticfiles import versioned_static
from wagtail.admin.widgets import BaseChooser, BaseChooserAdapter

from ..models.media import format_duration

# The size the widget shows the poster at (16:9), as the image chooser sizes its preview.
POSTER_WIDTH = 120
POSTER_HEIGHT = 68
PREVIEW_URL_NAME = "kollus_video_chooser:preview"

WIDGET_JS = "wagtail_kollus/js/video-chooser-widget.js"
CHOOSER_CSS = "wagtail_kollus/css/chooser.css"


def poster_url(video: Any) -> str:
    """What a chosen video looks like: the content's image, else the library poster.

    The row's own copy (``thumbnail_url``, which choosing and the media's later updates fill
    in), never a read of the media: a page with N chosen videos loads them in one query.
    """
    return video.thumbnail_url or ""


def video_details(video: Any) -> str:
    """One line under the title: duration and where the video comes from."""
    parts = [format_duration(video.duration_seconds)]
    parts += [video.content_title, video.chapter_title]
    return " · ".join(part for part in parts if part)


def chosen_video_data(video: Any) -> dict[str, Any]:
    """What the widget shows for ``video``, beyond Wagtail's ``id``/``title``/``edit_url``.

    Also the chooser modal's "chosen" answer, so a fresh choice renders like a reload.
    """
    url = poster_url(video)
    return {
        "preview": {"url": url, "width": POSTER_WIDTH, "height": POSTER_HEIGHT} if url else None,
        "preview_url": reverse(PREVIEW_URL_NAME, args=(video.pk,)),
        "details": video_details(video),
        # A library video is edited in the video library; a chapter item lives in the
        # contents API, which has no editing screen here (the link is hidden then).
        "edit_url": _library_edit_url(video),
    }


def _library_edit_url(video: Any) -> str:
    # The URL needs the media's pk alone, which the row holds: loading the media would cost a
    # query per chosen video when the page editor opens.
    if video.media_id is None:
        return ""
    media = video._meta.get_field("media").related_model(pk=video.media_id)
    return AdminURLFinder().get_edit_url(media) or ""


class KollusVideoChooserWidget(BaseChooser):
    template_name = "wagtail_kollus/chooser/widget.html"
    classname = "kollus-video-chooser"
    js_constructor = "KollusVideoChooser"
    link_to_chosen_text = _("Edit in the video library")
    preview_text = _("Preview video")

    def get_value_data_from_instance(self, instance: Any) -> dict[str, Any]:
        data = super().get_value_data_from_instance(instance)
        data.update(chosen_video_data(instance))
        return data

    def get_context(self, name: str, value_data: dict[str, Any], attrs: dict) -> dict[str, Any]:
        context = super().get_context(name, value_data, attrs)
        context.update(
            preview=value_data.get("preview") or {},
            preview_url=value_data.get("preview_url", ""),
            details=value_data.get("details", ""),
        )
        return context

    @cached_property
    def media(self) -> forms.Media:
        return forms.Media(
            js=[versioned_static("wagtailadmin/js/chooser-widget.js"), versioned_static(WIDGET_JS)],
            css={"all": [versioned_static(CHOOSER_CSS)]},
        )


class KollusVideoChooserAdapter(BaseChooserAdapter):
    """StreamField's packing of the widget: Wagtail's chooser factory with our widget class."""

    js_constructor = "wagtail_kollus.widgets.KollusVideoChooser"

    @cached_property
    def media(self) -> forms.Media:
        return forms.Media(
            js=[
                # The base class (window.Chooser), then Wagtail's factory, then ours on both.
                versioned_static("wagtailadmin/js/chooser-widget.js"),
                versioned_static("wagtailadmin/js/chooser-widget-telepath.js"),
                versioned_static(WIDGET_JS),
            ],
            css={"all": [versioned_static(CHOOSER_CSS)]},
        )
