"""The refused plays report (*Reports → Kollus refused plays*): every play the play callback
refused — when, to whom, on which page, which video, and why.

Built on Wagtail's ``ReportView`` with a ``filterset_class``, as the sync report and the
callback log are, so it has Wagtail's filter drawer and its CSV/XLSX export. It needs the
``view_refusedplay`` permission (given to groups in *Settings → Groups*): the rows name
viewers, which not everyone who sees the video library should read.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.utils import get_user_display_name
from wagtail.admin.views.reports import ReportView

from ..compat import get_page_model
from ..models import KollusMedia, KollusVideo, RefusalReason, RefusedPlay
from ..spreadsheets import CSVInRequestLanguageMixin

REPORT_PERMISSION = "wagtail_kollus.view_refusedplay"
# What the viewer filter matches for viewers who were not logged in.
ANONYMOUS = "anonymous"
KIND_LABELS = {1: _("Before play (1)"), 3: _("Player ready (3)")}


def user_can_view_refused_plays(user: Any) -> bool:
    return bool(user.has_perm(REPORT_PERMISSION))


def viewer_label(row: RefusedPlay) -> str:
    """The user's name, "anonymous", or the id of a user deleted since."""
    if row.user_id is None:
        return gettext("anonymous")
    if row.user is None:
        return gettext("deleted user #%(id)s") % {"id": row.user_id}
    return get_user_display_name(row.user)


def page_label(row: RefusedPlay) -> str:
    if row.page_id is None:
        return ""
    if row.page is None:
        return gettext("deleted page #%(id)s") % {"id": row.page_id}
    return row.page.get_admin_display_title()


def _pages_with_refusals(request: Any) -> QuerySet:
    return get_page_model().objects.filter(
        pk__in=RefusedPlay.objects.filter(page__isnull=False).values("page_id")
    ).order_by("title")


class RefusedPlaysFilterSet(WagtailFilterSet):
    refused_at = django_filters.DateFromToRangeFilter(
        label=_("Refused at"), widget=DateRangePickerWidget
    )
    page = django_filters.ModelChoiceFilter(
        label=_("Page"), queryset=_pages_with_refusals, empty_label=_("All")
    )
    reason = django_filters.ChoiceFilter(
        label=_("Reason"), choices=RefusalReason.choices, empty_label=_("All")
    )
    viewer = django_filters.CharFilter(
        label=_("Viewer"),
        method="filter_viewer",
        help_text=_("A user name or e-mail address (or part of it), or “anonymous”."),
    )

    class Meta:
        model = RefusedPlay
        fields = ["refused_at", "page", "reason", "viewer"]

    def filter_viewer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        if value.lower() in (ANONYMOUS, gettext("anonymous").lower()):
            return queryset.filter(user__isnull=True)
        user_model = get_user_model()
        match = Q(**{f"{user_model.USERNAME_FIELD}__icontains": value})
        for field_name in ("email", "first_name", "last_name"):
            try:
                user_model._meta.get_field(field_name)
            except FieldDoesNotExist:  # a custom user model without it
                continue
            match |= Q(**{f"{field_name}__icontains": value})
        return queryset.filter(user_id__in=user_model._default_manager.filter(match).values("pk"))


class RefusedPlaysView(CSVInRequestLanguageMixin, ReportView):
    results_template_name = "wagtail_kollus/playback/refused_plays.html"
    page_title = _("Refused plays")
    page_subtitle = _("Plays the play callback refused, and why")
    header_icon = "lock"
    index_url_name = "wagtail_kollus_refused_plays:index"
    index_results_url_name = "wagtail_kollus_refused_plays:index_results"
    filterset_class = RefusedPlaysFilterSet
    paginate_by = 50
    list_export = [
        "refused_at",
        "viewer",
        "cuid",
        "page_title",
        "page_id",
        "video_title",
        "media_content_key",
        "reason",
        "reason_label",
        "message",
        "kind",
    ]
    export_headings = {
        "refused_at": _("Refused at"),
        "viewer": _("Viewer"),
        "cuid": _("Viewer ID"),
        "page_title": _("Page"),
        "page_id": _("Page ID"),
        "video_title": _("Video"),
        "media_content_key": _("Media content key"),
        "reason": _("Reason code"),
        "reason_label": _("Reason"),
        "message": _("Message"),
        "kind": _("Callback kind"),
    }

    def dispatch(self, request, *args, **kwargs):
        if not user_can_view_refused_plays(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_filename(self) -> str:
        return "kollus-refused-plays-" + timezone.localdate().isoformat()

    def get_queryset(self) -> QuerySet[RefusedPlay]:
        # The video's title from the library or the chosen videos, by key: one subquery
        # each, so the export of every row needs no more queries than a page of them.
        key = OuterRef("media_content_key")
        return (
            RefusedPlay.objects.select_related("user", "page")
            .annotate(
                video_title=Coalesce(
                    Subquery(KollusMedia.objects.filter(media_content_key=key).values("title")[:1]),
                    Subquery(KollusVideo.objects.filter(media_content_key=key).values("title")[:1]),
                )
            )
            .order_by("-refused_at", "-pk")
        )

    def decorate_paginated_queryset(self, object_list: Any) -> list[RefusedPlay]:
        rows = list(object_list)
        for row in rows:
            row.viewer = viewer_label(row)
            row.page_title = page_label(row)
            row.kind_label = KIND_LABELS.get(row.kind, row.kind)
        return rows


class RefusedPlaysResultsView(RefusedPlaysView):
    results_only = True
