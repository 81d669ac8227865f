"""Uploading a video from the admin, with the browser posting the file straight to Kollus.

1. ``upload_ticket`` (POST, JSON): the server creates the local ``KollusMedia`` row first
   (state "uploading", so an interrupted flow leaves a visible row, not an orphan on Kollus),
   then asks Kollus for a one-time upload URL with the admin-set defaults (or the editor's
   overrides, when allowed). It answers the upload URL, which is single-use and not a secret;
   the access token never leaves the server.
2. The browser posts the file to that URL (field ``upload-file``), showing progress
   (``static/wagtail_kollus/js/upload.js``).
3. ``upload_complete`` / ``upload_abort`` tell us how it ended; the state then moves on only
   through Kollus's callbacks (or a refresh), because only Kollus knows.

The same form is served as a full admin page (the library's "Upload" button), as a modal step
(``upload_modal``, for the chooser's upload tab), and as an include
(``wagtail_kollus/media/includes/upload_form.html`` with :func:`upload_form_context`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.modal_workflow import render_modal_workflow
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from ..accounts import KollusAccount, kollus_client
from ..api.errors import KollusAPIError
from ..availability import apply_media
from ..conf import kollus_settings
from ..messages import Message, assign
from ..models import KollusMedia, MediaState
from .explain import explain
from .forms import UploadOptionsForm
from .jobs import schedule_later
from .states import state_display

logger = logging.getLogger(__name__)

# A safety net when callbacks are not configured yet: look at Kollus once after the upload.
REFRESH_AFTER_UPLOAD_SECONDS = 120


def abandoned_upload_check_delay() -> int:
    """Seconds from the upload ticket to the check for an upload the browser never finished:
    a minute after it starts to count as stuck."""
    return int(kollus_settings.STUCK_AFTER_MINUTES) * 60 + 60


class _MediaPermission(PermissionCheckedMixin):
    @cached_property
    def permission_policy(self):
        return ModelPermissionPolicy(KollusMedia)


def may_follow_upload(user: Any, media: KollusMedia, *also: str) -> bool:
    """Whether ``user`` may follow ``media``'s upload: read its state, report how it ended, use it.

    The uploader always may. Anyone else needs "change" on videos (or one of ``also``, e.g.
    "view" to read a state the library shows them anyway): "add" alone lets an editor upload
    and use *their own* video, as Wagtail's ownership policies let an image's uploader edit it,
    not read or take over everybody else's.
    """
    if media.uploaded_by_id is not None and media.uploaded_by_id == user.pk:
        return True
    return ModelPermissionPolicy(KollusMedia).user_has_any_permission(user, ["change", *also])


def upload_form_context(
    request: HttpRequest,
    *,
    replace: KollusMedia | None = None,
    upload_form: UploadOptionsForm | None = None,
) -> dict:
    """Context for ``includes/upload_form.html``: the options form and the endpoints.

    ``upload_form``: one the caller built already (the chooser's upload tab), so that the
    form and its category choices are not built twice per request."""
    if upload_form is None:
        upload_form = UploadOptionsForm(
            user=request.user, replacing=replace is not None, refresh_categories=True
        )
    return {
        "upload_form": upload_form,
        "upload_ticket_url": reverse("kollus_media:upload_ticket")
        + (f"?replace={replace.pk}" if replace else ""),
        "replace": replace,
    }


class UploadView(_MediaPermission, WagtailAdminTemplateMixin, TemplateView):
    """The library's upload page (the viewset's "add" view)."""

    permission_required = "add"
    template_name = "wagtail_kollus/media/upload.html"
    page_title = gettext_lazy("Upload a video")
    header_icon = "upload"
    index_url_name = None
    model = None

    def get_breadcrumbs_items(self) -> list[dict]:
        return [
            {"url": reverse("kollus_media:index"), "label": _("Kollus videos")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(upload_form_context(self.request))
        return context

    @staticmethod
    def extra_urlpatterns(viewset: Any) -> list:
        return [
            path("upload/ticket/", viewset.construct_view(UploadTicketView), name="upload_ticket"),
            path(
                "upload/<int:pk>/complete/",
                viewset.construct_view(UploadCompleteView),
                name="upload_complete",
            ),
            path(
                "upload/<int:pk>/abort/", viewset.construct_view(UploadAbortView), name="upload_abort"
            ),
            path(
                "upload/<int:pk>/status/",
                viewset.construct_view(UploadStatusView),
                name="upload_status",
            ),
            path("upload/modal/", viewset.construct_view(UploadModalView), name="upload_modal"),
            path(
                "upload/multiple/",
                viewset.construct_view(MultipleUploadView),
                name="upload_multiple",
            ),
        ]


class MultipleUploadView(UploadView):
    """Several files at once, dropped or picked (Wagtail images' "add multiple" pattern).

    Each file gets its own copy of the single upload form (``includes/upload_form.html``,
    driven by the same ``upload.js``), titled after the file name;
    ``static/wagtail_kollus/js/upload_multiple.js`` starts a few at a time. Each asks the
    server for its ticket, which passes through Kollus's shared rate limit (1 call/s); the
    files themselves go to Kollus's upload host, which that limit does not cover.
    """

    template_name = "wagtail_kollus/media/upload_multiple.html"
    page_title = gettext_lazy("Upload several videos")
    #: Files on their way to Kollus at once; the others wait their turn.
    parallel_uploads = 3

    def get_context_data(self, **kwargs: Any) -> dict:
        context = super().get_context_data(**kwargs)
        context["parallel_uploads"] = self.parallel_uploads
        return context


class UploadModalView(_MediaPermission, View):
    """The upload form as a modal-workflow step, for the chooser's "Upload" tab."""

    permission_required = "add"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render_modal_workflow(
            request,
            "wagtail_kollus/media/upload_modal.html",
            None,
            upload_form_context(request),
            json_data={"step": "upload"},
        )


def _error(message: str, status: int = 400, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def media_json(media: KollusMedia) -> dict:
    state = state_display(media)
    return {
        "id": media.pk,
        "title": media.title,
        "state": state.state,
        # The wording and tag style of every screen (media/states.py), so the upload page
        # never contradicts the library.
        "state_label": state.label,
        "state_description": state.description,
        "state_classname": state.classname,
        "error": state.reason,
        "poster_url": media.poster_url,
        "upload_file_key": media.upload_file_key,
        "media_content_key": media.media_content_key,
        "edit_url": reverse("kollus_media:edit", args=(media.pk,)),
        "status_url": reverse("kollus_media:upload_status", args=(media.pk,)),
    }


class UploadTicketView(_MediaPermission, View):
    """POST the upload options → create the row, get a one-time upload URL (JSON)."""

    permission_required = "add"
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        replaced = self.replaced_media(request)
        account = KollusAccount.from_settings()
        form = UploadOptionsForm(
            request.POST, user=request.user, replacing=replaced is not None, account=account
        )
        if not form.is_valid():
            return _error(_("The upload options are not valid."), fields=form.errors.get_json_data())
        options = form.upload_options()
        if replaced is not None:
            # Kollus replaces only like with like (encrypted↔encrypted, video↔video).
            options["is_encryption_upload"] = replaced.use_encryption
            options["is_audio_upload"] = replaced.is_audio
        media = KollusMedia.objects.create(
            title=options["title"],
            category_key=options["category_key"] or "",
            state=MediaState.UPLOADING,
            use_encryption=options["is_encryption_upload"],
            is_audio=options["is_audio_upload"],
            original_file_name=form.cleaned_data["file_name"],
            original_file_size=form.cleaned_data.get("file_size"),
            uploaded_by=request.user,
        )
        try:
            ticket = kollus_client(account).create_upload_url(**options)
        except KollusAPIError as error:
            logger.warning("Kollus refused an upload URL: %s", error.describe())
            media.state = MediaState.FAILED
            stored = assign(media, "error_message", explain(error))
            # No video can point at this row yet (its id was never sent): nothing to withdraw.
            media.save(update_fields=["state", *stored, "updated_at"])
            return _error(
                _("Kollus did not give an upload URL: %(reason)s") % {"reason": explain(error)},
                status=502,
            )
        media.upload_file_key = ticket.upload_file_key
        media.save(update_fields=["upload_file_key", "updated_at"])
        # If the browser never reports back (closed, crashed, offline), look once the upload
        # counts as stuck: Kollus then either has the file (the row catches up) or does not
        # (the row says the upload was interrupted; see services.refresh_media).
        schedule_later("refresh_media", abandoned_upload_check_delay(), media.pk)
        if replaced is not None:
            replaced.replacement = media
            replaced.save(update_fields=["replacement", "updated_at"])
        return JsonResponse(
            {
                **media_json(media),
                "upload_url": ticket.upload_url,
                "complete_url": reverse("kollus_media:upload_complete", args=(media.pk,)),
                "abort_url": reverse("kollus_media:upload_abort", args=(media.pk,)),
            }
        )

    def replaced_media(self, request: HttpRequest) -> KollusMedia | None:
        pk = request.GET.get("replace")
        if not pk:
            return None
        if not self.user_has_permission("change"):
            raise Http404
        return get_object_or_404(
            KollusMedia.objects.filter(state=MediaState.READY).exclude(upload_file_key=None),
            pk=pk,
        )


class _OwnUploadMixin(_MediaPermission):
    permission_required = "add"

    def get_media(self, pk: int) -> KollusMedia:
        media = get_object_or_404(KollusMedia, pk=pk)
        # Only the uploader (or someone who may change videos) reports how an upload ended.
        if not may_follow_upload(self.request.user, media):
            raise Http404
        return media


class UploadCompleteView(_OwnUploadMixin, View):
    """POST: the upload host accepted the file. State changes come from Kollus, not from here."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> JsonResponse:
        media = self.get_media(pk)
        if media.state == MediaState.UPLOADING:
            schedule_later("refresh_media", REFRESH_AFTER_UPLOAD_SECONDS, media.pk)
        return JsonResponse(media_json(media))


class UploadAbortView(_OwnUploadMixin, View):
    """POST: the upload ended in the browser before Kollus had the file.

    ``cancelled=1`` (the editor pressed Cancel, or left the page: the upload script sends a
    beacon) removes the row: nothing reached Kollus, and a "failed" row nobody asked for
    would only be clutter. Otherwise (a network or upload host error) the row becomes
    "failed" with the ``reason``, which the library and the edit screen show.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> JsonResponse:
        media = self.get_media(pk)
        if media.state != MediaState.UPLOADING:
            return JsonResponse(media_json(media))
        KollusMedia.objects.filter(replacement=media).update(replacement=None)
        if request.POST.get("cancelled"):
            answer = {**media_json(media), "deleted": True}
            media.delete()
            return JsonResponse(answer)
        reason = (request.POST.get("reason") or "").strip()[:500]
        media.state = MediaState.FAILED
        # The browser's own reason is its words, as they came; ours is shown in the language
        # of whoever reads it later (wagtail_kollus.messages).
        stored = assign(
            media, "error_message", reason or Message.gettext("The upload was cancelled.")
        )
        with transaction.atomic():
            media.save(update_fields=["state", *stored, "updated_at"])
            # A video chosen while uploading stays withdrawn (availability keeps pages right).
            apply_media(media)
        return JsonResponse(media_json(media))


class UploadStatusView(_MediaPermission, View):
    """GET: the row's state as JSON, polled by the upload page until ready or failed.

    An uploader polls their own upload; reading another's title and state takes "view" or
    "change" (who may only add would otherwise read any video by counting ids).
    """

    any_permission_required = ["add", "change", "view"]

    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        media = get_object_or_404(KollusMedia, pk=pk)
        if not may_follow_upload(request.user, media, "view"):
            raise Http404
        return JsonResponse(media_json(media))
