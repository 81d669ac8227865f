"""The sync report (*Reports → Contents sync*): pages waiting for, or failing, their push.

Built on Wagtail's ``ReportView`` with a ``filterset_class``, as Wagtail's own reports are: the
same header, the same filter drawer and active-filter pills, results refreshed in place.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views.reports import ReportView

from ..compat import get_page_model
from ..models.sync import REPORTED_STATES, PageContentLink
from .registry import is_synced
from .status import status_for_link
from .views import _bulk_retry

REPORT_PERMISSION = "wagtail_kollus.view_pagecontentlink"


def page_type_label(page_type: str) -> str:
    """``"courses.coursepage"`` → the model's verbose name (``"Course page"``); the stored
    label itself when the model is gone (a page type removed since the page was synced)."""
    try:
        model = apps.get_model(page_type)
    except (LookupError, ValueError):
        return page_type
    return capfirst(model._meta.verbose_name)


def page_type_choices() -> list[tuple[str, str]]:
    """The page types that sync, from the sync registry: no ``SELECT DISTINCT`` over every
    link on each load (100 000 pages are 100 000 links)."""
    page_model = get_page_model()
    types = [
        model._meta.label_lower
        for model in apps.get_models()
        if issubclass(model, page_model) and is_synced(model)
    ]
    return sorted(((t, page_type_label(t)) for t in types), key=lambda choice: choice[1])


class SyncReportFilterSet(WagtailFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=[(state.value, state.label) for state in REPORTED_STATES],
        empty_label=_("Pending and failed"),
        widget=forms.RadioSelect,
    )
    page_type = django_filters.ChoiceFilter(
        label=_("Page type"),
        choices=page_type_choices,
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = PageContentLink
        fields = ["state", "page_type"]


class SyncReportView(ReportView):
    # The results template is the table (and its bulk retry form); the page wraps it.
    template_name = "wagtail_kollus/sync/report_page.html"
    results_template_name = "wagtail_kollus/sync/report.html"
    page_title = _("Contents sync")
    page_subtitle = _("Pages waiting for, or failing, their push to the contents API")
    header_icon = "resubmit"
    index_url_name = "wagtail_kollus_sync:report"
    index_results_url_name = "wagtail_kollus_sync:report_results"
    filterset_class = SyncReportFilterSet
    paginate_by = 50

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(REPORT_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[PageContentLink]:
        return PageContentLink.objects.filter(state__in=REPORTED_STATES).order_by(
            "-requested_at", "-pk"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        links = list(context["object_list"])
        for link in links:
            link.page_type_label = page_type_label(link.page_type)
        context["rows"] = [(link, status_for_link(link, link.page_key)) for link in links]
        return context

    def post(self, request, *args, **kwargs):
        return _bulk_retry(request)


class SyncReportResultsView(SyncReportView):
    results_only = True
