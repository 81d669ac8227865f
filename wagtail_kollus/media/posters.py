"""Setting a video's poster: one of the frames Kollus took from it, or an uploaded image.

Either way the image goes to Kollus (``KollusClient.upload_poster``), which then serves it at
the media's poster URL; the row stores the URL Kollus answers with, so the library, the
chooser's chosen widget, the block's API output and the player show it without asking Kollus
again (the chosen videos copy it through ``video_updated``: ``chooser/receivers.py``).

Frames are picked by their position in ``KollusMedia.snapshot_frames`` (filled by the mirror),
never by a URL from the browser: the server fetches only what Kollus listed.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import signals
from ..accounts import kollus_client
from ..api.errors import KollusAPIError
from ..models import KollusMedia, PosterSource
from .explain import explain
from .object_views import MediaObjectView

logger = logging.getLogger(__name__)

POSTER_MAX_BYTES = 5 * 1024 * 1024
POSTER_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
URL_MAX_LENGTH = KollusMedia._meta.get_field("poster_url").max_length


def set_poster(
    media: KollusMedia, image: bytes, *, filename: str, content_type: str, source: str
) -> KollusMedia:
    """Send ``image`` to Kollus as the poster of ``media`` and store the new poster URL.

    Raises ``KollusAPIError`` (the row is then left as it was). When Kollus's answer names no
    URL, the media is re-read for it (one more call).
    """
    client = kollus_client()
    url = client.upload_poster(
        media.upload_file_key, image, filename=filename, content_type=content_type
    )
    if not url:
        url = client.get_media(media.upload_file_key).poster_url
    with transaction.atomic():
        media.poster_url = url[:URL_MAX_LENGTH] if url.startswith(("https://", "http://")) else ""
        media.poster_source = source
        media.save(update_fields=["poster_url", "poster_source", "updated_at"])
        transaction.on_commit(
            lambda: signals.send_robustly(
                signals.video_updated,
                sender=KollusMedia,
                instance=media,
                changed_fields=["poster_url"],
            )
        )
    return media


def use_frame(media: KollusMedia, index: int) -> KollusMedia:
    """Make the ``index``-th snapshot frame Kollus listed the poster. Raises ``KollusAPIError``."""
    frame = media.snapshot_frames[index]
    image, content_type = kollus_client().download_image(frame["url"], max_bytes=POSTER_MAX_BYTES)
    name = f"frame-{frame.get('time') or index}.jpg"
    return set_poster(
        media, image, filename=name, content_type=content_type, source=PosterSource.FRAME
    )


def _frame_label(index: int, frame: dict) -> str:
    time = frame.get("time")
    if isinstance(time, int):
        minutes, seconds = divmod(time, 60)
        return _("Frame at %(time)s") % {"time": f"{minutes}:{seconds:02d}"}
    return _("Frame %(number)d") % {"number": index + 1}


class PosterForm(forms.Form):
    """A frame Kollus took, or an image file: exactly one of the two."""

    frame = forms.TypedChoiceField(
        label=gettext_lazy("A frame of the video"),
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
    )
    image = forms.ImageField(
        label=gettext_lazy("Or upload an image"),
        required=False,
        help_text=gettext_lazy("JPEG or PNG, up to 5 MB."),
    )

    def __init__(self, *args: Any, frames: list[dict], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames = frames
        self.fields["frame"].choices = [
            (index, _frame_label(index, frame)) for index, frame in enumerate(frames)
        ]

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if image is None:
            return None
        if image.size > POSTER_MAX_BYTES:
            raise ValidationError(_("The image is larger than 5 MB."))
        kind = getattr(getattr(image, "image", None), "format", None)
        if kind not in POSTER_TYPES:
            raise ValidationError(_("The poster must be a JPEG or PNG image."))
        image.poster_content_type = POSTER_TYPES[kind]
        return image

    def clean(self) -> dict:
        cleaned = super().clean()
        has_frame = cleaned.get("frame") not in (None, "")
        if has_frame == bool(cleaned.get("image")) and not self.errors:
            raise ValidationError(_("Choose a frame or upload an image (one of the two)."))
        return cleaned


class PosterView(MediaObjectView):
    """GET: the current poster, the frames and the upload field; POST: set the poster."""

    permission_required = "change"
    template_name = "wagtail_kollus/media/poster.html"
    page_title = gettext_lazy("Poster")
    header_icon = "image"

    def get_form(self, data: Any = None, files: Any = None) -> PosterForm:
        return PosterForm(data, files, frames=list(self.object.snapshot_frames or []))

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        form = kwargs.get("form") or self.get_form()
        context.update(
            object=self.object,
            form=form,
            frames=[
                {"index": index, "url": frame["url"], "label": label}
                for (index, frame), (_value, label) in zip(
                    enumerate(form.frames), form.fields["frame"].choices, strict=True
                )
            ],
            edit_url=reverse("kollus_media:edit", args=(self.object.pk,)),
        )
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = self.get_form(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, _("The poster was not changed: see the errors below."))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        media = self.object
        if not media.upload_file_key:
            messages.error(request, _("Kollus has not received this video yet."))
            return self.render_to_response(self.get_context_data(form=form), status=409)
        try:
            if form.cleaned_data.get("image"):
                image = form.cleaned_data["image"]
                image.seek(0)
                set_poster(
                    media,
                    image.read(),
                    filename=image.name,
                    content_type=image.poster_content_type,
                    source=PosterSource.UPLOAD,
                )
            else:
                use_frame(media, form.cleaned_data["frame"])
        except KollusAPIError as error:
            logger.warning("Setting the poster of media %s failed: %s", media.pk, error.describe())
            messages.error(
                request,
                _("Kollus did not take the new poster: %(reason)s") % {"reason": explain(error)},
            )
            return self.render_to_response(self.get_context_data(form=form), status=502)
        messages.success(request, _("The poster of '%(title)s' was changed.") % {"title": media})
        return HttpResponseRedirect(reverse("kollus_media:edit", args=(media.pk,)))
