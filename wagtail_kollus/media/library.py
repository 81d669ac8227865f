"""The "Kollus videos" admin area: Wagtail's ``ModelViewSet`` over the local mirror.

Listing (poster, title, category, duration, state, created), search, filters (state,
category, stuck), sorting and pagination come from Wagtail's generic views; this module adds
the columns, the row and header actions, the usage of a video through chosen-video rows, and
the callback URLs panel for superusers. The edit screen, refresh, upload, replace and delete
live in their own modules.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button

from ..models import KollusMedia, MediaState
from .callback_urls import callback_urls
from .delete import MediaDeleteView
from .edit import MediaEditView
from .filters import KollusMediaFilterSet, exclude_deleted, live_media_count, stuck_media
from .forms import MediaEditForm
from .import_screen import import_urlpatterns
from .object_views import MediaPermissionMixin
from .posters import PosterView
from .refresh import RefreshStuckView, RefreshView, post_action_attrs
from .replace import ReplaceView
from .states import state_display
from .upload import UploadView
from .usage import media_usage, references_to


class PosterColumn(Column):
    cell_template_name = "wagtail_kollus/media/poster_cell.html"


class StateColumn(Column):
    """Wagtail's status tag in the style of the state, and the reason when one is known."""

    cell_template_name = "wagtail_kollus/media/state_cell.html"

    def get_value(self, instance):
        return state_display(instance)


LAYOUTS = ("grid", "list")
LAYOUT_SESSION_KEY = "wagtail_kollus:library-layout"
# The bulk-action checkboxes' type: their aria-describedby names "<type>_<pk>_title".
BULK_OBJ_TYPE = "kollusmedia"


def library_layout(request: HttpRequest) -> str:
    """Grid (posters) or list (table): ``?layout=`` chooses and is remembered in the editor's
    session, as their last choice; grid until they choose (as Wagtail's image listing)."""
    asked = request.GET.get("layout")
    if asked in LAYOUTS:
        if request.session.get(LAYOUT_SESSION_KEY) != asked:
            request.session[LAYOUT_SESSION_KEY] = asked
        return asked
    remembered = request.session.get(LAYOUT_SESSION_KEY)
    return remembered if remembered in LAYOUTS else "grid"


class MediaIndexView(MediaPermissionMixin, generic.IndexView):
    filterset_class = KollusMediaFilterSet
    default_ordering = "-created_at"
    add_item_label = _("Upload a video")
    results_template_name = "wagtail_kollus/media/index_results.html"

    @cached_property
    def layout(self) -> str:
        return library_layout(self.request)

    def layout_urls(self) -> dict[str, str]:
        """The index with the same search, filters and ordering, in each layout."""
        urls = {}
        for layout in LAYOUTS:
            query = self.request.GET.copy()
            query["layout"] = layout
            query.pop("p", None)
            urls[layout] = f"{self.index_url}?{query.urlencode()}"
        return urls

    def get_base_queryset(self):
        return exclude_deleted(super().get_base_queryset())

    def get_paginator(self, queryset, *args, **kwargs):
        paginator = super().get_paginator(queryset, *args, **kwargs)
        if not (self.is_filtering or self.is_searching):
            # The whole library: its count is kept (and forgotten on every save), not taken
            # again over every row on each page load.
            paginator.count = live_media_count()
        return paginator

    @cached_property
    def columns(self):
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type=BULK_OBJ_TYPE),
            PosterColumn("poster_url", label=_("Poster")),
            self._get_title_column(
                "title", get_title_id=lambda media: f"{BULK_OBJ_TYPE}_{media.pk}_title"
            ),
            Column("category_name", label=_("Category"), sort_key="category_name"),
            Column(
                "duration",
                label=_("Duration"),
                accessor="duration_display",
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
        buttons.append(
            Button(
                _("Set poster"),
                url=reverse("kollus_media:poster", args=(instance.pk,)),
                icon_name="image",
                priority=46,
            )
        )
        return buttons

    @cached_property
    def stuck_count(self) -> int:
        return stuck_media().count()

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        # Offered only when there is something to refresh: with nothing stuck it could only
        # say so.
        if self.user_has_permission("change") and self.stuck_count:
            refresh_url = reverse("kollus_media:refresh_stuck")
            buttons.append(
                Button(
                    _("Refresh all stuck videos"),
                    url=refresh_url,
                    icon_name="rotate",
                    attrs=post_action_attrs(refresh_url),
                )
            )
        if self.user_has_permission("add"):
            buttons.append(
                Button(
                    _("Upload several videos"),
                    url=reverse("kollus_media:upload_multiple"),
                    icon_name="upload",
                )
            )
            buttons.append(
                Button(
                    _("Import from Kollus"),
                    url=reverse("kollus_media:import"),
                    icon_name="download",
                )
            )
        # Why a video is stuck is often in what Kollus said about it: the log is one click away.
        # Whoever sees the library may read it (media/callback_log.py).
        buttons.append(
            Button(
                _("Kollus callbacks"),
                url=reverse("wagtail_kollus_callbacks:index"),
                icon_name="history",
            )
        )
        return buttons

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["stuck_count"] = self.stuck_count
        context["layout"] = self.layout
        context["bulk_obj_type"] = BULK_OBJ_TYPE
        context["layout_urls"] = self.layout_urls()
        if self.layout == "grid":
            context["grid_items"] = [
                {
                    "media": media,
                    "state": state_display(media),
                    "title_id": f"{BULK_OBJ_TYPE}_{media.pk}_title",
                    "edit_url": self.get_edit_url(media),
                }
                for media in context["object_list"]
            ]
        if self.request.user.is_superuser:
            # Built with the real host of this request; the token is shown to superusers only.
            context["callback_urls"] = callback_urls(self.request)
        return context


class MediaUsageView(MediaPermissionMixin, generic.UsageView):
    template_name = "wagtail_kollus/media/usage.html"

    def get_queryset(self):
        return references_to(self.object).group_by_source_object()

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["content_items"] = media_usage(self.object).content_items
        return context


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
    index_view_class = MediaIndexView
    edit_view_class = MediaEditView
    usage_view_class = MediaUsageView
    delete_view_class = MediaDeleteView
    index_template_name = "wagtail_kollus/media/index.html"
    edit_template_name = MediaEditView.template_name

    def get_form_class(self, for_update=False):
        # The edit screen lays its two fields out itself, beside the preview and the details
        # (media/edit.html, as Wagtail's image edit screen), so no panels.
        return MediaEditForm

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
            path(f"poster/<{conv}:pk>/", self.construct_view(PosterView), name="poster"),
            *UploadView.extra_urlpatterns(self),
            *import_urlpatterns(self),
        ]


kollus_media_viewset = KollusMediaViewSet()
