"""The callback log (Reports → Kollus callbacks): every delivery, what became of it, and "Retry".

A delivery whose retries are used up is ``failed`` and stays so until someone looks; this is
where they look. Built on Wagtail's ``ReportView`` with a ``filterset_class``, as the sync
report and Wagtail's own reports are. Anyone who may see the video library may read the log;
"Retry" re-reads a media from Kollus, so it needs the same permission as the library's
"Refresh from Kollus" (``change`` on Kollus videos). Retry is a POST with Django's CSRF check,
as every admin write.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import CallbackDelivery, CallbackKind, DeliveryStatus, KollusMedia
from . import services

app_name = "wagtail_kollus_callbacks"
_library_permissions = ModelPermissionPolicy(KollusMedia)


def user_can_read_log(user: Any) -> bool:
    return _library_permissions.user_has_any_permission(user, ["view", "add", "change", "delete"])


def user_can_retry(user: Any) -> bool:
    return _library_permissions.user_has_permission(user, "change")


class CallbackLogFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=DeliveryStatus.choices,
        empty_label=gettext_lazy("All"),
        widget=forms.RadioSelect,
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Kind"),
        choices=CallbackKind.choices,
        empty_label=gettext_lazy("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = CallbackDelivery
        fields = ["status", "kind"]


class CallbackLogView(ReportView):
    # The results template is the table (with its Retry forms); the page wraps it.
    template_name = "wagtail_kollus/media/callback_log_page.html"
    results_template_name = "wagtail_kollus/media/callback_log.html"
    page_title = gettext_lazy("Kollus callbacks")
    page_subtitle = gettext_lazy("What Kollus told this site, and what became of it")
    header_icon = "media"
    index_url_name = "wagtail_kollus_callbacks:index"
    index_results_url_name = "wagtail_kollus_callbacks:index_results"
    filterset_class = CallbackLogFilterSet
    paginate_by = 50

    def dispatch(self, request, *args, **kwargs):
        if not user_can_read_log(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @property
    def header_buttons(self) -> list[Any]:
        # The play callback's refusals are listed in a report of their own.
        from ..playback.report import user_can_view_refused_plays

        buttons = list(super().header_buttons)
        if user_can_view_refused_plays(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Refused plays"),
                    url=reverse("wagtail_kollus_refused_plays:index"),
                    icon_name="lock",
                    attrs={"data-kollus-refused-plays-link": ""},
                )
            )
        return buttons

    def get_queryset(self) -> QuerySet[CallbackDelivery]:
        return CallbackDelivery.objects.order_by("-received_at", "-pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["retryable_statuses"] = services.RETRYABLE_STATUSES
        context["can_retry"] = user_can_retry(self.request.user)
        context["failed_count"] = CallbackDelivery.objects.filter(
            status=DeliveryStatus.FAILED
        ).count()
        return context


class CallbackLogResultsView(CallbackLogView):
    results_only = True


@require_POST
def retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    if not user_can_retry(request.user):
        raise PermissionDenied
    delivery = get_object_or_404(CallbackDelivery, pk=delivery_id)
    if services.retry_delivery(delivery):
        messages.success(
            request,
            _("The %(kind)s callback for %(key)s was queued again.")
            % {"kind": delivery.get_kind_display(), "key": delivery.upload_file_key},
        )
    else:
        messages.warning(request, _("This callback is not failed or ignored (any more)."))
    back = reverse("wagtail_kollus_callbacks:index")
    query = request.GET.urlencode()
    return redirect(f"{back}?{query}" if query else back)


urlpatterns = [
    path("", CallbackLogView.as_view(), name="index"),
    path("results/", CallbackLogResultsView.as_view(), name="index_results"),
    path("<int:delivery_id>/retry/", retry, name="retry"),
]
