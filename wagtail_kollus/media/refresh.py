"""The library's refresh actions: re-read one video, or every stuck one, from Kollus.

Both are POSTs sent by Wagtail's ``w-action`` controller from listing and edit screen buttons
(:func:`post_action_attrs`), and both bring the editor back where they clicked, with a
message saying what happened.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin.utils import get_valid_next_url_from_request

from ..api.errors import KollusAPIError
from ..models import KollusMedia, MediaState
from . import jobs, services
from .explain import explain
from .filters import stuck_media
from .object_views import MediaPermissionMixin

logger = logging.getLogger(__name__)


def post_action_attrs(url: str) -> dict[str, str]:
    """A listing button that POSTs to ``url`` through Wagtail's ``w-action`` controller.

    The controller posts to its ``url`` value, not to the link's ``href``: without it the
    form goes to the page the button is on (the listing answers 405). It also sends ``next``
    (the current URL), so the view can bring the editor back to the same filters and page.
    """
    return {
        "data-controller": "w-action",
        "data-action": "w-action#post",
        "data-w-action-url-value": url,
    }


def back_to(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Where a POST action returns: the page it was sent from, when that URL is safe."""
    return HttpResponseRedirect(get_valid_next_url_from_request(request) or fallback)


def refresh_or_explain(request: HttpRequest, media: KollusMedia) -> bool:
    """Re-read ``media`` from Kollus now; on failure tell the editor why and return False.

    Runs in the request (one to three API calls) so an outage, a wrong token or a garbled
    answer reaches the editor as a message instead of a failed task nobody sees. The row is
    written only after Kollus answered, so a failure leaves it as it was.
    """
    title = str(media)
    try:
        result = services.refresh_media(media.pk)
    except KollusAPIError as error:
        logger.warning("Refreshing media %s failed: %s", media.pk, error.describe())
        reason = explain(error)
    else:
        if result != "not found":
            return True
        reason = _("Kollus does not know this upload (yet).")
    messages.error(
        request,
        _("'%(title)s' could not be refreshed from Kollus: %(reason)s")
        % {"title": title, "reason": reason},
    )
    return False


class RefreshView(MediaPermissionMixin, View):
    """POST: re-read one video from Kollus, in the request (see :func:`refresh_or_explain`)."""

    permission_required = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        media = get_object_or_404(KollusMedia.objects.exclude(state=MediaState.DELETED), pk=pk)
        if refresh_or_explain(request, media):
            media.refresh_from_db()
            messages.success(request, _("'%(title)s' was refreshed from Kollus.") % {"title": media})
        return back_to(request, reverse("kollus_media:index"))


class RefreshStuckView(MediaPermissionMixin, View):
    """POST: re-read every stuck upload/transcode.

    The first one is read in the request, as a probe: when Kollus is down or refuses the token
    the editor learns it at once and nothing is queued. The others are queued, because Kollus
    allows one call a second and a request must not wait for dozens.
    """

    permission_required = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        back = back_to(request, reverse("kollus_media:index") + "?stuck=true")
        stuck = list(stuck_media().exclude(upload_file_key=None).exclude(upload_file_key=""))
        if not stuck:
            # The list may have changed since it was shown (or the URL was posted directly).
            messages.info(request, _("No video is stuck."))
            return back
        if not refresh_or_explain(request, stuck[0]):
            if len(stuck) > 1:
                messages.warning(request, _("The other stuck videos were not refreshed."))
            return back
        for media in stuck[1:]:
            jobs.enqueue("refresh_media", media.pk)
        messages.success(
            request,
            ngettext(
                "%(count)d stuck video will be refreshed from Kollus.",
                "%(count)d stuck videos will be refreshed from Kollus.",
                len(stuck),
            )
            % {"count": len(stuck)},
        )
        return back
