"""Deleting a video: show where it is used, refuse while used unless allowed and confirmed.

Deleting removes the media on Kollus and marks the local row "deleted" (it is kept, because
pages may still point at it: ``KollusVideo.is_playable`` is then false and the page renders the
placeholder instead of a broken player).

Deleting a video that is still used needs the ``delete_used_kollusmedia`` permission (or a
superuser) *and* an explicit confirmation; everyone else sees where it is used and why it
cannot be deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import signals
from ..accounts import kollus_client
from ..api.errors import KollusAPIError, NotFoundError
from ..availability import apply_media
from ..models import KollusMedia, MediaState
from .forms import ConfirmDeleteUsedForm
from .object_views import MediaObjectView
from .usage import media_usage

logger = logging.getLogger(__name__)

DELETE_USED_PERMISSION = "wagtail_kollus.delete_used_kollusmedia"


def can_delete_used(user: Any) -> bool:
    return user.is_superuser or user.has_perm(DELETE_USED_PERMISSION)


def delete_media(media: KollusMedia, *, client: Any) -> None:
    """Delete on Kollus (a 404 there means already gone), then mark the row deleted."""
    if media.upload_file_key:
        try:
            client.delete_media(media.upload_file_key)
        except NotFoundError:
            logger.info("Media %s was already gone on Kollus", media.pk)
    with transaction.atomic():
        media.state = MediaState.DELETED
        media.deleted_at = timezone.now()
        media.replacement = None
        media.save(update_fields=["state", "deleted_at", "replacement", "updated_at"])
        apply_media(media)
        transaction.on_commit(
            lambda: signals.send_robustly(
                signals.video_deleted, sender=KollusMedia, instance=media
            )
        )


class MediaDeleteView(MediaObjectView):
    permission_required = "delete"
    template_name = "wagtail_kollus/media/confirm_delete.html"
    page_title = gettext_lazy("Delete video")
    header_icon = "bin"
    index_url_name = None
    usage_url_name = None

    @cached_property
    def usage(self):
        return media_usage(self.object)

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        used = self.usage.is_used
        context.update(
            object=self.object,
            usage=self.usage,
            is_used=used,
            usage_url=reverse("kollus_media:usage", args=(self.object.pk,)),
            index_url=reverse("kollus_media:index"),
            refused=used and not can_delete_used(self.request.user),
            form=kwargs.get("form") or (ConfirmDeleteUsedForm() if used else None),
        )
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if self.usage.is_used:
            if not can_delete_used(request.user):
                messages.error(request, _("This video is still used, so it cannot be deleted."))
                return self.render_to_response(self.get_context_data(), status=403)
            form = ConfirmDeleteUsedForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Confirm that the places using this video may break."))
                return self.render_to_response(self.get_context_data(form=form))
        try:
            delete_media(self.object, client=kollus_client())
        except KollusAPIError as error:
            messages.error(
                request,
                _("Kollus did not delete the video: %(reason)s") % {"reason": error.describe()},
            )
            return self.render_to_response(self.get_context_data(), status=502)
        messages.success(request, _("Video '%(title)s' deleted.") % {"title": self.object})
        return HttpResponseRedirect(reverse("kollus_media:index"))
