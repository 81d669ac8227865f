"""The "Kollus videos" admin area: Wagtail's ``ModelViewSet`` over the local mirror.

Listing (poster, title, category, duration, state, created), search, filters (state,
category, stuck), sorting and pagination come from Wagtail's generic views; this module adds
the columns, the refresh actions, the usage of a video through chosen-video rows, and the
callback URLs panel for superusers. Upload, replace and delete live in their own modules.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views import generic
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button
from wagtail.permission_policies import ModelPermissionPolicy

from ..api.errors import KollusAPIError
from ..models import KollusMedia, MediaState
from . import tasks
from .callback_urls import callback_urls
from .delete import MediaDeleteView
from .explain import explain
from .filters import KollusMediaFilterSet, exclude_deleted, stuck_media
from .forms import MediaEditForm
from .replace import ReplaceView
from .states import state_display
from .upload import UploadView
from .usage import media_usage, references_to

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


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class PosterColumn(Column):
    cell_template_name = "wagtail_kollus/media/poster_cell.html"


class StateColumn(Column):
    """Wagtail's status tag in the style of the state, and the reason when one is known."""

    cell_template_name = "wagtail_kollus/media/state_cell.html"

    def get_value(self, instance):
        return state_display(instance)


class MediaPermissionMixin(PermissionCheckedMixin):
    """Wagtail 7.0 passes ``permission_policy`` from the viewset; 8.0 looks it up. Be explicit."""

    @cached_property
    def permission_policy(self):
        return ModelPermissionPolicy(KollusMedia)


class MediaIndexView(MediaPermissionMixin, generic.IndexView):
    filterset_class = KollusMediaFilterSet
    default_ordering = "-created_at"
    add_item_label = _("Upload a video")

    def get_base_queryset(self):
        return exclude_deleted(super().get_base_queryset())

    @cached_property
    def columns(self):
        return [
            PosterColumn("poster_url", label=_("Poster")),
            self._get_title_column("title"),
            Column("category_name", label=_("Category"), sort_key="category_name"),
            Column(
                "duration",
                label=_("Duration"),
                accessor=lambda m: format_duration(m.duration_seconds),
                sort_key="duration_seconds",
            ),
            StateColumn("state", label=_("State"), sort_key="state"),
            DateColumn("created_at", label=_("Created"), sort_key="created_at"),
        ]

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if not self.user_has_permission("change") or instance.state == MediaState.DELETED:
            return buttons
        refresh_url = reverse("kollus_media:refresh", args=(instance.pk,))
        buttons.append(
            Button(
                _("Refresh from Kollus"),
                url=refresh_url,
                icon_name="rotate",
                attrs=post_action_attrs(refresh_url),
                priority=40,
            )
        )
        buttons.append(
            Button(
                _("Usage"),
                url=reverse("kollus_media:usage", args=(instance.pk,)),
                icon_name="link",
                priority=35,
            )
        )
        buttons.append(
            Button(
                _("Replace source"),
                url=reverse("kollus_media:replace", args=(instance.pk,)),
                icon_name="upload",
                priority=45,
            )
        )
        return buttons

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.user_has_permission("change"):
            refresh_url = reverse("kollus_media:refresh_stuck")
            buttons.append(
                Button(
                    _("Refresh all stuck videos"),
                    url=refresh_url,
                    icon_name="rotate",
                    attrs=post_action_attrs(refresh_url),
                )
            )
        return buttons

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["stuck_count"] = stuck_media().count()
        if self.request.user.is_superuser:
            # Built with the real host of this request; the token is shown to superusers only.
            context["callback_urls"] = callback_urls(self.request)
        return context


class MediaEditView(MediaPermissionMixin, generic.EditView):
    success_message = _("Video '%(object)s' saved; Kollus will be updated in a moment.")

    def save_instance(self):
        before = KollusMedia.objects.values("title", "category_key").get(pk=self.object.pk)
        instance = super().save_instance()
        if before != {"title": instance.title, "category_key": instance.category_key}:
            # Queued: Kollus allows one call a second; the worker shares the rate limiter.
            tasks.enqueue("push_metadata", instance.pk)
        return instance


class MediaUsageView(MediaPermissionMixin, generic.UsageView):
    template_name = "wagtail_kollus/media/usage.html"

    def get_queryset(self):
        return references_to(self.object).group_by_source_object()

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["content_items"] = media_usage(self.object).content_items
        return context


def refresh_or_explain(request: HttpRequest, media: KollusMedia) -> bool:
    """Re-read ``media`` from Kollus now; on failure tell the editor why and return False.

    Runs in the request (one to three API calls) so an outage, a wrong token or a garbled
    answer reaches the editor as a message instead of a failed task nobody sees. The row is
    written only after Kollus answered, so a failure leaves it as it was.
    """
    title = str(media)
    try:
        result = tasks.refresh_media(media.pk)
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
        if stuck and not refresh_or_explain(request, stuck[0]):
            if len(stuck) > 1:
                messages.warning(request, _("The other stuck videos were not refreshed."))
            return back
        for media in stuck[1:]:
            tasks.enqueue("refresh_media", media.pk)
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


class KollusMediaViewSet(ModelViewSet):
    model = KollusMedia
    name = "kollus_media"
    url_prefix = "kollus-videos"
    icon = "media"
    menu_label = _("Kollus videos")
    menu_order = 300
    add_to_admin_menu = True
    copy_view_enabled = False
    list_per_page = 20
    search_fields = ["title", "original_file_name", "upload_file_key", "category_name"]
    edit_handler = ObjectList(
        [FieldPanel("title"), FieldPanel("category_key")], base_form_class=MediaEditForm
    )
    index_view_class = MediaIndexView
    edit_view_class = MediaEditView
    usage_view_class = MediaUsageView
    delete_view_class = MediaDeleteView
    index_template_name = "wagtail_kollus/media/index.html"

    def get_usage_view_kwargs(self, **kwargs):
        return super().get_usage_view_kwargs(template_name=MediaUsageView.template_name, **kwargs)

    @property
    def add_view(self):
        # "Add" is "upload": the row is created by the upload flow, not by a model form.
        return self.construct_view(UploadView)

    def get_urlpatterns(self):
        # pk_path_converter exists on Wagtail 8 viewsets only; KollusMedia has an integer pk.
        conv = getattr(self, "pk_path_converter", "int")
        return [
            *super().get_urlpatterns(),
            path(f"refresh/<{conv}:pk>/", self.construct_view(RefreshView), name="refresh"),
            path("refresh-stuck/", self.construct_view(RefreshStuckView), name="refresh_stuck"),
            path(f"replace/<{conv}:pk>/", self.construct_view(ReplaceView), name="replace"),
            *UploadView.extra_urlpatterns(self),
        ]


kollus_media_viewset = KollusMediaViewSet()
